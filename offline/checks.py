"""Check rendered Kubernetes objects the way platform teams and scanners do.

    venv/bin/python -m offline.checks staging     # render, then schema + checkov; exit 1 on problems

- Schema: every object against the Kubernetes JSON schema in strict mode
  (kubernetes-validate), for the version in `geostack:kubernetesVersion`.
- checkov: its Kubernetes checks on the objects and its Dockerfile checks on the image's
  build context. Checks skipped on purpose are listed, with reasons, in
  policy/checkov-skips.yaml; any other failure is a problem.

Every problem names the object (or file) and the field.
checkov pins libraries that clash with Pulumi's SDK, so it runs from its own virtualenv
(build/checkov-venv, made by scripts/test.sh; override with GEOSTACK_CHECKOV).
"""
from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SKIPS_FILE = PROJECT_ROOT / "policy" / "checkov-skips.yaml"
DOCKER_CONTEXT = PROJECT_ROOT / "docker" / "qgis-server"
CHECKOV = Path(os.environ.get("GEOSTACK_CHECKOV", PROJECT_ROOT / "build" / "checkov-venv" / "bin" / "checkov"))


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def schema_problems(manifests: list[dict[str, Any]], version: str) -> list[str]:
    """One line per object that the Kubernetes schema (strict) rejects."""
    import kubernetes_validate

    problems = []
    for manifest in manifests:
        where = f"{manifest.get('kind')}/{manifest.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{where}: {_path(error.path)}: {error.message}")
        except kubernetes_validate.utils.SchemaNotFoundError as error:
            problems.append(f"{where}: no schema for {error.api_version} {error.kind} in Kubernetes {version}")
    return problems


@dataclass(frozen=True)
class Skip:
    check: str
    resources: tuple[str, ...]  # fnmatch patterns on the object name, or "*"
    reason: str

    def covers(self, check_id: str, name: str) -> bool:
        return check_id == self.check and any(fnmatch.fnmatchcase(name, p) for p in self.resources)


def load_skips(path: Path = SKIPS_FILE) -> list[Skip]:
    entries = yaml.safe_load(path.read_text()) or []
    skips = []
    for entry in entries:
        if not entry.get("reason", "").strip():
            raise ValueError(f"{path}: skip of {entry.get('check')} has no reason")
        resources = entry.get("resources", "*")
        skips.append(Skip(entry["check"], tuple([resources] if isinstance(resources, str) else resources),
                          entry["reason"].strip()))
    return skips


@dataclass(frozen=True)
class Failure:
    check_id: str
    check_name: str
    resource: str  # checkov's id, e.g. Deployment.geostack.qgis-nginx
    file: str
    fields: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.resource.rsplit(".", 1)[-1]

    def describe(self) -> str:
        fields = ", ".join(self.fields) if self.fields else "(whole object)"
        return f"{self.check_id} ({self.check_name}) on {self.resource} in {self.file}: {fields}"


def checkov_failures(directory: Path, framework: str, checkov: Path = CHECKOV) -> list[Failure]:
    if not checkov.exists():
        raise FileNotFoundError(f"{checkov} is missing: scripts/test.sh installs checkov into build/checkov-venv")
    result = subprocess.run([str(checkov), "-d", str(directory), "--framework", framework, "-o", "json",
                             "--quiet", "--compact", "--skip-download"], capture_output=True, text=True)
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise RuntimeError(f"checkov failed ({result.returncode}): {result.stderr[-2000:]}")
    reports = json.loads(result.stdout)
    failures = []
    for report in reports if isinstance(reports, list) else [reports]:
        for failed in report.get("results", {}).get("failed_checks", []):
            failures.append(Failure(failed["check_id"], failed["check_name"], failed["resource"],
                                    failed["file_path"], tuple(failed.get("check_result", {}).get("evaluated_keys") or ())))
    return failures


def unlisted(failures: list[Failure], skips: list[Skip]) -> list[Failure]:
    return [f for f in failures if not any(s.covers(f.check_id, f.name) for s in skips)]


def unused(skips: list[Skip], failures: list[Failure]) -> list[Skip]:
    """Skips that no longer match anything: the list should shrink when the code improves."""
    return [s for s in skips if not any(s.covers(f.check_id, f.name) for f in failures)]


def main(argv: Optional[list[str]] = None) -> int:
    from pulumi_geostack.config_keys import SETTINGS
    from offline.program_run import stack_config
    from offline.render import kubernetes_objects, run_program, write_manifests

    stack = (argv or sys.argv[1:] or ["staging"])[0]
    default_version = next(s.default for s in SETTINGS if s.key == "kubernetesVersion")
    version = stack_config(stack).get("geostack:kubernetesVersion", default_version)
    manifests = kubernetes_objects(run_program(stack))
    problems = schema_problems(manifests, version)
    with tempfile.TemporaryDirectory() as work:
        write_manifests(manifests, Path(work))
        failures = checkov_failures(Path(work), "kubernetes") + checkov_failures(DOCKER_CONTEXT, "dockerfile")
    problems += [f.describe() for f in unlisted(failures, load_skips())]
    print("\n".join(problems) if problems else f"{stack}: {len(manifests)} objects pass the schema and checkov")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.path.insert(0, str(PROJECT_ROOT))
    sys.exit(main())
