"""offline.diff's predictions against the real engine: for each change, what `pulumi preview`
plans for the deployed staging stack (create, update, replace, delete per URN) is exactly what
the credential-free review predicts from the two versions under mocks.

The changes: a port and an env var (stack config), and a renamed component (code: every
resource under it moves to another URN). A storage class is checked beside GeoNode's claims in
test_staging_geonode.py. dev cannot be compared here: the Go module proxy serves no build of
the docker provider (toolchain/README.md)."""
from __future__ import annotations

import pytest

from offline.diff import predicted_operations, short, snapshot

pytestmark = pytest.mark.timeout(1200)

IGNORED_TYPES = ("pulumi:pulumi:Stack", "pulumi:providers:")
REPLACING_STEPS = ("replace", "create-replacement", "delete-replaced")


def _provider_or_stack(urn: str) -> bool:
    """The stack and the providers: left out, as they are not objects the review is about."""
    return urn.split("::")[2].split("$")[-1].startswith(IGNORED_TYPES)


def planned(workspace) -> dict[str, str]:
    """URN (less stack and project: the mocks name them otherwise) -> operation of every step
    `pulumi preview` plans, bar unchanged ones."""
    steps = workspace.json("preview")["steps"]
    operations = {}
    for step in steps:
        if step["op"] == "same" or _provider_or_stack(step["urn"]):
            continue
        operations[short(step["urn"])] = "replace" if step["op"] in REPLACING_STEPS else step["op"]
    return operations


def predicted(before: dict, after: dict) -> dict[str, str]:
    return {short(urn): op for urn, op in predicted_operations(before, after).items()
            if not _provider_or_stack(urn)}


@pytest.mark.parametrize("key, value", [("qgisFcgiPort", "5556"), ("qgisLogLevel", "0")])
def test_a_config_change_previews_as_offline_diff_predicts(staging, key, value):
    project = staging.workspace.project
    before = snapshot(project, "staging")
    staging.workspace.ok("config", "set", f"geostack:{key}", value)
    try:
        after = snapshot(project, "staging")
        expected = predicted(before, after)
        assert expected, f"{key}: the change should touch something"
        assert planned(staging.workspace) == expected
    finally:
        staging.workspace.ok("config", "set", f"geostack:{key}", staging.config.get(key) or
                             {"qgisFcgiPort": "5555", "qgisLogLevel": "1"}[key])


def test_a_renamed_component_previews_as_offline_diff_predicts(staging):
    project = staging.workspace.project
    source = project / "pulumi_geostack" / "nginx_proxy.py"
    original = source.read_text()
    before = snapshot(project, "staging")
    assert original.count('"geostack:proxy:NginxProxy"') == 1
    source.write_text(original.replace('"geostack:proxy:NginxProxy"', '"geostack:proxy:Proxy"'))
    try:
        after = snapshot(project, "staging")
        expected = predicted(before, after)
        assert "create" in expected.values() and "delete" in expected.values()
        assert planned(staging.workspace) == expected
    finally:
        source.write_text(original)
    staging.workspace.ok("preview", "--expect-no-changes")
