"""The toolchain toolchain/install.sh builds is the one the pinned Python SDKs ask for."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def versions_env() -> dict[str, str]:
    lines = (ROOT / "toolchain" / "versions.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def pins(path: Path) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", path.read_text(), re.M)
    return {name.lower().replace("_", "-"): version for name, version in found}


def go_requirement(wrapper: str, module: str) -> str:
    go_mod = (ROOT / "toolchain" / "go" / wrapper / "go.mod").read_text()
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)} (v\S+)", go_mod, re.M)
    assert match, f"toolchain/go/{wrapper}/go.mod does not require {module}"
    return match.group(1)


def test_every_plugin_is_built_at_its_sdks_exact_version():
    env, program = versions_env(), pins(ROOT / "requirements.txt")
    assert env["PULUMI_VERSION"] == program["pulumi"] == pins(ROOT / "policy" / "requirements.txt")["pulumi"]
    for plugin in ("kubernetes", "docker", "random"):
        assert env[f"{plugin.upper()}_VERSION"] == program[f"pulumi-{plugin}"], plugin


def test_every_dependency_is_pinned_exactly():
    for path in ("requirements.txt", "requirements-dev.txt", "policy/requirements.txt",
                 "policy/requirements-dev.txt", "offline/requirements-checkov.txt"):
        for line in (ROOT / path).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r "):
                assert re.fullmatch(r"[A-Za-z0-9_.-]+(\[[A-Za-z0-9_,.-]+\])?==\S+", line), f"{path}: {line!r} is not pinned with =="


def test_the_wrappers_build_those_versions():
    env = versions_env()
    assert go_requirement("pulumi", "github.com/pulumi/pulumi/pkg/v3") == f"v{env['PULUMI_VERSION']}"
    assert go_requirement("pulumi", "github.com/pulumi/pulumi/sdk/v3") == f"v{env['PULUMI_VERSION']}"
    assert go_requirement("language-python", "github.com/pulumi/pulumi/pkg/v3") == f"v{env['LANGUAGE_HOST_VERSION']}"
    assert go_requirement("language-yaml", "github.com/pulumi/pulumi-yaml") == f"v{env['YAML_LANGUAGE_VERSION']}"
    # The 4.25.0 release commit of pulumi-kubernetes (the module has no tags).
    assert go_requirement("kubernetes", "github.com/pulumi/pulumi-kubernetes/provider/v4") == \
        "v4.0.0-20260115033456-f47bc2d6f199"
    assert env["KUBERNETES_VERSION"] == "4.25.0"
