"""Render the Kubernetes objects a stack declares to YAML, offline, like `helm template`.

    venv/bin/python -m offline.render staging                 # -> build/rendered/staging/*.yaml
    venv/bin/python -m offline.render prod --out /tmp/review
    venv/bin/python -m offline.render staging --set geostack:qgisReplicas=3

The program runs under Pulumi's mocks (no cluster, no cloud credentials): values only a
provider knows (image digests, load-balancer names, generated passwords) are stand-ins,
and every Secret value is replaced by `<secret>`, so rendered files are safe to share.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Optional

import yaml

from offline.program_run import ProgramRun, run_program

PROJECT_ROOT = Path(__file__).resolve().parent.parent

MASK = "<secret>"


def _api_version(type_token: str) -> tuple[str, str]:
    """`kubernetes:apps/v1:Deployment` -> ("apps/v1", "Deployment"); the core group has no prefix."""
    _, group_version, kind = type_token.split(":")
    group, version = group_version.split("/")
    return (version if group == "core" else f"{group}/{version}"), kind


def _masked(resource_inputs: dict[str, Any], kind: str) -> dict[str, Any]:
    if kind != "Secret":
        return resource_inputs
    masked = dict(resource_inputs)
    for field in ("stringData", "data"):
        if field in masked:
            masked[field] = {key: MASK for key in masked[field]}
    return masked


def plain(value: Any) -> Any:
    """Mock inputs carry floats for integers; manifests want ints."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def kubernetes_objects(run: ProgramRun) -> list[dict[str, Any]]:
    """Every Kubernetes object the run declared, as a manifest (providers excluded)."""
    objects = []
    for resource in run.resources:
        if not resource.type.startswith("kubernetes:"):
            continue  # providers are `pulumi:providers:kubernetes`
        api_version, kind = _api_version(resource.type)
        body = plain(_masked(resource.inputs, kind))
        manifest = {"apiVersion": api_version, "kind": kind, "metadata": body.pop("metadata")}
        manifest.update({k: v for k, v in body.items() if k not in ("apiVersion", "kind")})
        objects.append(manifest)
    return objects


def write_manifests(objects: list[dict[str, Any]], directory: Path) -> list[Path]:
    """One file per object, numbered in declaration order; the directory is replaced."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.yaml"):
        old.unlink()
    paths = []
    for index, manifest in enumerate(objects, start=1):
        name = manifest["metadata"]["name"]
        path = directory / f"{index:02d}-{manifest['kind'].lower()}-{name}.yaml"
        path.write_text(yaml.safe_dump(manifest, sort_keys=False, default_flow_style=False))
        paths.append(path)
    return paths


def render(stack: str, out: Path, overrides: Optional[dict[str, str]] = None) -> list[Path]:
    run = run_program(stack, overrides)
    return write_manifests(kubernetes_objects(run), out / stack)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.render", description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="stack name; its Pulumi.<stack>.yaml is read")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "build" / "rendered",
                        help="output directory (default: build/rendered); files go to OUT/STACK/")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. geostack:qgisReplicas=3")
    args = parser.parse_args(argv)
    if not (PROJECT_ROOT / f"Pulumi.{args.stack}.yaml").exists():
        parser.error(f"no stack file Pulumi.{args.stack}.yaml")
    overrides = dict(item.split("=", 1) for item in args.set)
    paths = render(args.stack, args.out, overrides)
    if not paths:
        print(f"stack {args.stack} declares no Kubernetes objects (its target is not Kubernetes)")
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
