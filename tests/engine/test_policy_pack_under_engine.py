"""The policy pack and the built kubernetes plugin under the real engine.

No geostack stack can be previewed here (every one needs the docker or random plugin, which
cannot be built on this machine: toolchain/README.md), so a two-resource program stands in:
a PersistentVolumeClaim through pulumi-resource-kubernetes, rendered to a directory instead of
a cluster. That is enough to run the real engine, language host, plugin and policy pack
together, and to show the pack stopping a violation.
"""
from __future__ import annotations

import textwrap

import pytest
import yaml

PROGRAM = '''
import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config()
render = k8s.Provider("render", render_yaml_to_directory=config.require("renderDir"))
k8s.core.v1.PersistentVolumeClaim(
    "data",
    metadata={"name": "data", "labels": {"geostack.io/production": config.require("production")}},
    spec={"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    opts=pulumi.ResourceOptions(provider=render, protect=config.require_bool("protect")),
)
'''


@pytest.fixture
def claim_program(workspace, tmp_path):
    """The stand-in program, in its own directory of the workspace, using the program's venv."""
    project = workspace.project / "claim"
    project.mkdir()
    (project / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    (project / "Pulumi.yaml").write_text(yaml.safe_dump({
        "name": "claim", "runtime": {"name": "python", "options": {"virtualenv": str(workspace.project / "venv")}},
    }))
    (project / "venv").symlink_to(workspace.project / "venv")
    workspace.project = project
    workspace.ok("stack", "init", "test")
    workspace.ok("config", "set", "renderDir", str(tmp_path / "rendered"))
    return workspace


def test_the_kubernetes_plugin_renders_what_the_engine_asks_for(claim_program, tmp_path):
    claim_program.ok("config", "set", "production", "false")
    claim_program.ok("config", "set", "protect", "false")
    claim_program.ok("up", "--yes", "--skip-preview")
    (manifest,) = (tmp_path / "rendered").rglob("*persistentvolumeclaim*data*.yaml")
    rendered = yaml.safe_load(manifest.read_text())
    assert rendered["kind"] == "PersistentVolumeClaim" and rendered["metadata"]["name"] == "data"
    assert "kubernetes:core/v1:PersistentVolumeClaim" in claim_program.resource_types("test")
    assert "4.25.0" in claim_program.ok("plugin", "ls")


@pytest.mark.parametrize("protect", ["true", "false"])
def test_the_policy_pack_stops_an_unprotected_production_volume(claim_program, protect):
    claim_program.ok("config", "set", "production", "true")
    claim_program.ok("config", "set", "protect", protect)
    preview = claim_program.run("preview", "--policy-pack", str(claim_program.project.parent / "policy"))
    assert "geostack@v0.0.1" in preview.output, preview.output
    if protect == "true":
        assert preview.returncode == 0, preview.output
    else:
        assert preview.returncode != 0
        assert "stateful-volumes-protected" in preview.output
        assert "data holds production data: set protect" in preview.output
