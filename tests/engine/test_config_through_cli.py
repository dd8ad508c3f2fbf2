"""Config as the real CLI resolves it, and every mistake a user can make through `pulumi config set`
rejected clearly before a single resource is created."""
from __future__ import annotations

import json
import re

import pytest

from offline.program_run import STACKS, run_program, stack_config
from tests.engine.workspace import PROJECT_ROOT

NO_RESOURCES = {"pulumi:pulumi:Stack"}  # the stack itself is all a failed `up` may leave


@pytest.mark.parametrize("stack", STACKS)
def test_the_cli_resolves_each_stack_to_the_config_the_mocked_runs_use(workspace, stack):
    workspace.select(stack)
    assert workspace.config_values(stack) == stack_config(stack)


def test_prod_under_mocks_with_the_config_the_cli_resolves(workspace, stack_runs):
    """prod needs AWS to preview, so it runs under mocks, fed what `pulumi config` resolves."""
    workspace.select("prod")
    run = run_program("prod", config=workspace.config_values("prod"))
    assert {r.urn for r in run.resources} == {r.urn for r in stack_runs["prod"].resources}
    assert run.of_type("aws:ecr/repository:Repository")


# (what the user types after `pulumi config set`, what the error must say)
MISTAKES = {
    "wrong-type": (["geostack:qgisReplicas", "two"],
                   "Stack 'dev' with configuration key 'qgisReplicas' must be of type 'integer'"),
    "wrong-boolean": (["geostack:qgisEnabled", "yes"],
                      "Stack 'dev' with configuration key 'qgisEnabled' must be of type 'boolean'"),
    "out-of-range": (["geostack:qgisReplicas", "0"],
                     "geostack:qgisReplicas must be an integer from 1 to 100, got '0'"),
    "not-allowed": (["geostack:target", "kubernetes"],
                    "geostack:target must be one of docker, microk8s, eks, got 'kubernetes'"),
    # Docker would publish on every interface given an address it cannot parse.
    "bad-address": (["geostack:dockerBindAddress", "999.1.1.1"],
                    "geostack:dockerBindAddress must be an IPv4 or IPv6 address such as 127.0.0.1, 0.0.0.0 or ::1, "
                    "got '999.1.1.1'"),
    "dotted-key": (["geostack:qgis.replicas", "2"],
                   "geostack:qgis.replicas is not a geostack setting (did you mean geostack:qgisReplicas?)"),
    "path-object": (["--path", "geostack:docker.hostPort", "9090"],
                    "geostack:docker is not a geostack setting: keys are flat, so set them without --path"),
    "plaintext-secret": (["geostack:geonodeAdminPassword", "hunter2"],
                         "geostack:geonodeAdminPassword must be set with `pulumi config set --secret "
                         "geostack:geonodeAdminPassword` so it is stored encrypted, got a plaintext value"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_config_mistake_stops_pulumi_up_before_any_resource(workspace, mistake):
    args, message = MISTAKES[mistake]
    workspace.select("dev")
    workspace.ok("config", "set", *args)

    up = workspace.run("up", "--yes", "--skip-preview")
    assert up.returncode != 0
    assert message in up.output
    assert "hunter2" not in up.output
    assert set(workspace.resource_types("dev")) <= NO_RESOURCES


def test_geonode_rules_between_keys_stop_pulumi_up_before_any_resource(workspace):
    """Cross-key rules, including secrets that must or must not be set, hold when the CLI sets the values."""
    workspace.select("dev")
    workspace.ok("config", "set", "geostack:geonodeEnabled", "true")
    workspace.ok("config", "set", "geostack:geonodeDatabaseHost", "db.example.org")
    workspace.ok("config", "set", "--secret", "geostack:geonodeEmailPassword", "hunter2")

    up = workspace.run("up", "--yes", "--skip-preview")
    assert up.returncode != 0
    assert "missing: geostack:geonodeDatabasePassword, geostack:geonodeGeodatabasePassword" in up.output
    assert "geostack:geonodeEmailPassword must be unset when geostack:geonodeEmailHost is empty" in up.output
    assert "hunter2" not in up.output
    assert set(workspace.resource_types("dev")) <= NO_RESOURCES


def test_extra_settings_from_a_file_reach_django_line_for_line(workspace):
    """`pulumi config set geostack:geonodeExtraSettings < file`, as docs/geonode.md shows, keeps every line."""
    settings = "TIME_ZONE = 'Europe/Rome'\nLANGUAGE_CODE = 'it'\n"
    workspace.select("staging")
    workspace.ok("config", "set", "geostack:geonodeExtraSettings", stdin=settings)

    run = run_program("staging", config=workspace.config_values("staging"))
    django = next(d for d in run.of_type("kubernetes:apps/v1:Deployment") if d.name == "geonode-django-deployment")
    env = {e["name"]: e.get("value") for e in django.inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["GEOSTACK_EXTRA_SETTINGS"] == settings.rstrip("\n")


# The pages whose `pulumi config set` lines each make one stack's config. The bucket page's block
# lists alternatives (an access key, or a role), which no one stack sets together.
PAGES_OF_ONE_STACK = ("README.md", "docs/getting-started.md", "docs/geonode.md", "docs/ci-cd.md")


def documented_config_lines(page: str) -> list[list[str]]:
    """`pulumi config set` lines in a page's code blocks, with concrete keys and values."""
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", (PROJECT_ROOT / page).read_text(), re.S)
    lines = [line.split("#")[0].split() for block in blocks for line in block.splitlines()]
    return [words[3:] for words in lines if words[:3] == ["pulumi", "config", "set"] and "<" not in " ".join(words)]


def test_the_docs_show_how_to_set_a_secret():
    assert any("--secret" in words for page in PAGES_OF_ONE_STACK for words in documented_config_lines(page))


@pytest.mark.parametrize("page", [page for page in PAGES_OF_ONE_STACK if documented_config_lines(page)])
def test_the_documented_config_lines_work_as_written(workspace, page):
    lines = documented_config_lines(page)
    stack = "prod-us" if ["geostack:target", "eks"] in lines else "documented"
    workspace.ok("stack", "init", stack)
    for words in lines:
        # A secret typed without a value is read from the prompt (here: stdin).
        workspace.ok("config", "set", *words, stdin="documented-secret-value\n")

    resolved = workspace.config(stack)
    secrets = {key: entry["value"] for key, entry in resolved.items() if entry["secret"]}
    plain = {key: entry["value"] for key, entry in resolved.items() if not entry["secret"]}
    for words in lines:
        key = next(word for word in words if not word.startswith("--"))
        assert key in resolved, f"`pulumi config set {' '.join(words)}` did not set {key}"

    run = run_program(stack, config=plain, secrets=secrets, raise_errors=False)
    assert run.error is None, f"the program refuses {page}'s config: {run.error}"
    if any("--secret" in words for words in lines):
        assert secrets, f"{page}'s --secret line stored an encrypted value"
    if stack == "prod-us":  # the CI/CD page's environment: an EKS cluster given by name
        kubeconfig = json.loads(run.one("pulumi:providers:kubernetes").inputs["kubeconfig"])
        assert kubeconfig["users"][0]["user"]["exec"]["args"][:4] == ["eks", "get-token", "--cluster-name",
                                                                      "geostack-us"]
