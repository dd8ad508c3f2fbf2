"""The policy pack, applied to what each stack really declares: zero violations.

The pack needs pulumi-policy, which pins its own Pulumi SDK, so it lives in its own
virtualenv (policy/venv, as `pulumi preview --policy-pack` makes it). The declarations
travel to it as JSON with secrets still marked.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from offline.program_run import PROJECT_ROOT, STACKS, mark_secrets, run_program

POLICY_PYTHON = PROJECT_ROOT / "policy" / "venv" / "bin" / "python"
CHECK = PROJECT_ROOT / "policy" / "check_declared.py"


def check(run, tmp_path) -> subprocess.CompletedProcess:
    assert POLICY_PYTHON.exists(), "policy/venv is missing: scripts/test.sh creates it"
    exported = [{"type": r.type, "name": r.name, "urn": r.urn, "protect": r.protect,
                 "inputs": mark_secrets(r.raw_inputs)} for r in run.resources]
    path = tmp_path / "resources.json"
    path.write_text(json.dumps(exported))
    return subprocess.run([str(POLICY_PYTHON), str(CHECK), str(path)], capture_output=True, text=True)


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_passes_the_policy_pack(stack, tmp_path):
    run = run_program(stack, {"geostack:geonodeEnabled": "true"} if stack == "dev" else {})
    result = check(run, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_pack_catches_a_violation_in_a_real_declaration(tmp_path):
    # prod with production switched off: claims lose protect but keep no production label,
    # so flip the label on by hand to prove the pack reads what the program declares.
    run = run_program("prod", {"geostack:production": "false"})
    claim = next(r for r in run.resources if r.type == "kubernetes:core/v1:PersistentVolumeClaim")
    claim.raw_inputs["metadata"]["labels"]["geostack.io/production"] = "true"
    result = check(run, tmp_path)
    assert result.returncode == 1
    assert f"stateful-volumes-protected: {claim.name}: {claim.name} holds production data" in result.stdout
