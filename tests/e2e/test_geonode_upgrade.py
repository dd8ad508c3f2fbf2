"""A GeoNode stack moved from the previous release to the current one with `pulumi up` on a real
Docker engine, as docs/operations.md "Upgrading GeoNode" says, and rolled back the documented way.

The stack starts at geonodeRelease 5.0 (GeoNode 5.0.3.post1, geostack's image built from
docker/geonode/releases/5.0) with a user, a document and a dataset record, is backed up, moved
to 5.1 (5.1.1), rolled back to 5.0 with the backup, and moved to 5.1 again. The other services
are the labelled stand-ins of tests/e2e/geonode_on_docker.py. The tests share one deployment and
run in file order.
"""
from __future__ import annotations

import re

import pytest

from pulumi_geostack.config_keys import GEONODE_RELEASES
from offline.loopback import free_port
from tests.e2e.docker_engine import docker_engine, ensure_base_image
from tests.e2e.geonode_on_docker import GeoNodeOnDocker, publish_stand_ins
from tests.e2e.geonode_records import SiteRecords, check_records, make_records
from tests.e2e.private_registry import private_registry

pytestmark = pytest.mark.timeout(3600)

STATE: dict[str, object] = {}  # what one test leaves for the next: the records, the backup's name


@pytest.fixture(scope="module")
def geonode():
    with docker_engine() as client, private_registry() as registry:
        ensure_base_image(client)
        images, _ = publish_stand_ins(client, registry)
        deployment = GeoNodeOnDocker(client, free_port(), {**images, "geostack:geonodeRelease": "5.0"})
        try:
            run = deployment.up()
            assert run.error is None, f"pulumi up failed: {run.error}"
            yield deployment
        finally:
            deployment.realizer.destroy()


def django_shell(geonode: GeoNodeOnDocker):
    def run(source: str) -> str:
        """Its standard output (GeoNode 5.0's libraries print warnings on standard error)."""
        result = geonode.container("geonode-django").exec_run(["django-admin", "shell", "-c", source], demux=True)
        out, err = (part.decode(errors="replace") if part else "" for part in result.output)
        assert result.exit_code == 0, (out + err)[-3000:]
        return out
    return run


def running_geonode(geonode: GeoNodeOnDocker) -> str:
    return django_shell(geonode)("import importlib.metadata as m; print(m.version('geonode'))").split()[-1]


def assert_migrated_then_served(geonode: GeoNodeOnDocker) -> None:
    """The init task ran the migrations and ended before the new Django started; none is left."""
    init = geonode.container("geonode-django-init").attrs["State"]
    django = geonode.container("geonode-django").attrs["State"]
    assert (init["Status"], init["ExitCode"]) == ("exited", 0)
    assert _instant(init["FinishedAt"]) < _instant(django["StartedAt"]), (init["FinishedAt"], django["StartedAt"])
    check = geonode.container("geonode-django").exec_run(["django-admin", "migrate", "--check", "--noinput"])
    assert check.exit_code == 0, check.output.decode(errors="replace")[-3000:]


def _instant(stamp: str) -> tuple[str, int]:
    """Docker's RFC 3339 times drop trailing zeros of the nanoseconds: compare them as numbers."""
    seconds, _, fraction = stamp.rstrip("Z").partition(".")
    return seconds, int(fraction.ljust(9, "0"))


def signed_in_admin(geonode: GeoNodeOnDocker):
    return geonode.browser().sign_in("admin", geonode.admin_password)


def records() -> SiteRecords:
    return STATE["records"]


def test_the_previous_release_serves_a_user_a_document_and_a_dataset_record(geonode):
    assert running_geonode(geonode) == GEONODE_RELEASES["5.0"]
    STATE["records"] = make_records(signed_in_admin(geonode), django_shell(geonode))
    check_records(signed_in_admin(geonode), records(), geonode.browser)


def test_a_backup_first_as_the_upgrade_section_says(geonode):
    result = geonode.container("geonode-backup").exec_run(["sh", "/usr/local/bin/geostack-backup.sh"])
    output = result.output.decode(errors="replace")
    assert result.exit_code == 0, output
    STATE["backup"] = re.search(r"^backup (\d{8}T\d{6}Z): ", output, re.MULTILINE).group(1)


def test_up_to_the_current_release_migrates_once_and_keeps_everything(geonode):
    run = geonode.up(geonodeRelease="5.1")
    assert run.error is None, run.error
    assert running_geonode(geonode) == GEONODE_RELEASES["5.1"]
    assert_migrated_then_served(geonode)
    assert re.search(r"Applying \w+\.\w+\.\.\. OK", geonode.logs("geonode-django-init")), \
        "5.1 brings migrations of its own"
    check_records(signed_in_admin(geonode), records(), geonode.browser)


def test_a_rollback_to_the_previous_release_with_the_backup_keeps_everything(geonode):
    run = geonode.up(geonodeRelease="5.0")
    assert run.error is None, run.error
    restored = geonode.container("geonode-backup").exec_run(["sh", "/usr/local/bin/geostack-restore.sh",
                                                            STATE["backup"]])
    assert restored.exit_code == 0, restored.output.decode(errors="replace")
    assert running_geonode(geonode) == GEONODE_RELEASES["5.0"]
    assert_migrated_then_served(geonode)
    check_records(signed_in_admin(geonode), records(), geonode.browser)


def test_after_the_rollback_the_stack_moves_up_again(geonode):
    # The restore dropped 5.1's own tables with the rest: 5.1's migrations make them again.
    run = geonode.up(geonodeRelease="5.1")
    assert run.error is None, run.error
    assert running_geonode(geonode) == GEONODE_RELEASES["5.1"]
    assert_migrated_then_served(geonode)
    check_records(signed_in_admin(geonode), records(), geonode.browser)
