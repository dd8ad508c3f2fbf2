"""The current LTR, as a user gets it: the dev stack with `geostack:qgisRelease 3.44`, realized on a
real Docker engine like the default (tests/e2e/test_docker_dev_stack.py). The image the program
declares is built from the same Dockerfile on Debian forky with QGIS 3.44.15, and both projects
of the folder answer through nginx's published port.
"""
from __future__ import annotations

import pytest

from pulumi_geostack.config_keys import QGIS_RELEASES
from offline.loopback import free_port, scratch_dir, wait_until
from offline.program_run import run_program
from tests.e2e.claim_in_image import assert_the_image_finds_projects_on_a_claim
from tests.e2e.docker_engine import NGINX_STAND_IN, docker_engine, ensure_base_image
from tests.e2e.docker_realizer import CONTAINER, IMAGE, DockerRealizer
from tests.e2e.declared_builds import HOST_CA_CONFIG
from tests.e2e.image_cache import cached_image
from tests.e2e.project_checks import PROJECTS, assert_landing_page_lists_both, assert_project_answers
from tests.e2e.project_folders import make_two_project_folder
from tests.e2e.wms_checks import capabilities_answer

LTR = "3.44"
# The first test also bootstraps the base image and builds the QGIS image when nothing is cached.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def deployed():
    with docker_engine() as engine, scratch_dir("geostack-ltr-projects-") as folder:
        make_two_project_folder(folder)
        run = run_program("dev", {"geostack:qgisRelease": LTR, "geostack:qgisProjectDir": str(folder),
                                  "geostack:dockerHostPort": "8090", **HOST_CA_CONFIG})
        ensure_base_image(engine, "bookworm", QGIS_RELEASES[LTR]["DEBIAN_RELEASE"])
        nginx = run.one(CONTAINER, "qgis-nginx")
        cached_image(engine, NGINX_STAND_IN, "nginx-debian", nginx.inputs["image"])
        realizer = DockerRealizer(engine, run, host_ports={8090: free_port()})
        try:
            realizer.realize()
            base = f"http://127.0.0.1:{realizer.host_ports[8090]}"
            wait_until(lambda: capabilities_answer(base + "/qgis-server"), timeout=60, what="WMS through nginx")
            yield {"realizer": realizer, "run": run, "base": base, "folder": folder}
        finally:
            realizer.destroy()


def test_the_program_declares_the_ltr_build(deployed):
    build = deployed["run"].one(IMAGE).inputs["build"]
    # and the CA certificates the stack configures (geostack:buildCaCertificates), where it does
    certificates = {"EXTRA_CA_CERTS": value for value in HOST_CA_CONFIG.values()}
    assert build["args"] == {"DEBIAN_RELEASE": "forky", "QGIS_VERSION": "3.44.15+dfsg-1", **certificates}


def test_the_container_runs_qgis_3_44(deployed):
    realizer = deployed["realizer"]
    container = realizer.client.containers.get(realizer.containers["qgis-server"])
    installed = container.exec_run(["dpkg-query", "-W", "-f=${Version}", "qgis-server"]).output.decode()
    assert installed == "3.44.15+dfsg-1"


@pytest.mark.parametrize("name, title", PROJECTS)
def test_every_project_answers(deployed, name, title):
    assert_project_answers(deployed["base"], name, title)


def test_the_landing_page_lists_both_projects(deployed):
    assert_landing_page_lists_both(deployed["base"])


def test_the_images_plugin_finds_every_project_on_a_claim(deployed):
    realizer = deployed["realizer"]
    assert_the_image_finds_projects_on_a_claim(realizer.client, realizer.images["qgis-image-build"],
                                               deployed["folder"])
