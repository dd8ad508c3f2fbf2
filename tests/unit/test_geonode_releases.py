"""geonodeRelease: which GeoNode geostack's image is built from, and the locks that pin each one.
(tests/e2e/test_geonode_upgrade.py and the cluster suite move a stack from one to the next.)"""
from __future__ import annotations

import re

import pytest

from pulumi_geostack.config_keys import GEONODE_DEFAULT_RELEASE, GEONODE_RELEASES
from offline.program_run import PROJECT_ROOT, run_program
from tests.unit.test_geonode import GEONODE_ON

CONTEXT = PROJECT_ROOT / "docker" / "geonode"
IMAGE = "docker:index/image:Image"


@pytest.mark.parametrize("release, version", GEONODE_RELEASES.items())
def test_each_release_has_a_hash_pinned_lock_of_exactly_its_geonode(release, version):
    folder = CONTEXT / "releases" / release
    wanted = [line for line in (folder / "requirements.in").read_text().splitlines() if line and not line.startswith("#")]
    assert wanted == [f"geonode=={version}"]
    lock = (folder / "requirements.lock").read_text()
    assert re.search(rf"^geonode=={re.escape(version)} \\\n\s+--hash=sha256:[0-9a-f]{{64}}", lock, re.MULTILINE)
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==", lock, re.MULTILINE)
    hashed = re.findall(r"^[A-Za-z0-9_.-]+==\S+ \\\n\s+--hash=sha256:", lock, re.MULTILINE)
    assert len(pins) == len(hashed) > 100, "every package pinned with its hashes"
    # The GDAL bindings are built against Debian's libgdal (the Dockerfile stops on a mismatch).
    debian_gdal = re.search(r"ARG GDAL_DEB_VERSION=(\d+\.\d+\.\d+)", (CONTEXT / "Dockerfile").read_text()).group(1)
    assert re.search(rf"^gdal=={re.escape(debian_gdal)} ", lock, re.MULTILINE)


def test_the_dockerfile_builds_the_default_release_by_itself():
    assert f"ARG GEONODE_RELEASE={GEONODE_DEFAULT_RELEASE}\n" in (CONTEXT / "Dockerfile").read_text()


def _geonode_build(overrides: dict[str, str]) -> dict:
    return run_program("dev", {**GEONODE_ON["dev"], **overrides}).one(IMAGE, "geonode-django-image").inputs


def test_the_chosen_release_is_built_under_its_own_tag():
    current, previous = _geonode_build({}), _geonode_build({"geostack:geonodeRelease": "5.0"})
    assert current["build"]["args"]["GEONODE_RELEASE"] == "5.1"
    assert previous["build"]["args"]["GEONODE_RELEASE"] == "5.0"
    assert current["imageName"] != previous["imageName"]


@pytest.mark.parametrize("key, value", [
    ("geonodeImage", "registry.example.org/gis/geonode@sha256:" + "cd" * 32),
    ("geonodeDjangoImage", "geonode/geonode:5.1.1"),
])
def test_a_release_with_an_image_built_elsewhere_is_refused(key, value):
    run = run_program("staging", {f"geostack:{key}": value, "geostack:geonodeRelease": "5.0",
                                  "geostack:geonodeDatabaseMaxConnections": "600"}, raise_errors=False)
    assert f"geostack:geonodeRelease must stay '5.1' when geostack:{key} is set" in str(run.error)
    assert not run.resources
