"""The image's own geostack_projects plugin, in the built image's QGIS: a container started with the
environment the staging program declares for a claim (`geostack:qgisDataClaim`), a folder bind-mounted
where the claim would be, and FastCGI requests sent inside it as nginx sends them."""
from __future__ import annotations

import json
import re
from pathlib import Path

import docker

from pulumi_geostack.nginx_conf import PROJECT_NAME_PARAM
from offline.loopback import declared_staging_stack, wait_until
from tests.e2e.project_folders import CITY_TITLE, SAMPLE_TITLE

_PORT = "5555"


def _fastcgi(container, uri: str, query: str = "", project_name: str = "") -> tuple[str, str]:
    """(headers, body) of one request to the container's QGIS, with nginx's parameters for it."""
    env = {"REQUEST_METHOD": "GET", "REQUEST_URI": uri + (f"?{query}" if query else ""), "QUERY_STRING": query,
           "SCRIPT_NAME": "", "SERVER_NAME": "localhost", "SERVER_PORT": "80"}
    if project_name:
        env[PROJECT_NAME_PARAM] = project_name
    result = container.exec_run(["cgi-fcgi", "-bind", "-connect", f"127.0.0.1:{_PORT}"], environment=env)
    headers, _, body = result.output.decode().replace("\r\n", "\n").partition("\n\n")
    return headers, body


def assert_the_image_finds_projects_on_a_claim(client: docker.DockerClient, image: str, folder: Path) -> None:
    """`folder` holds sample.qgs at its root and city/city.qgs (tests/e2e/project_folders.py)."""
    env = {**declared_staging_stack({"geostack:qgisDataClaim": "maps"})["env"], "QGIS_FCGI_PROCESSES": "1",
           "QGIS_FCGI_PORT": _PORT}
    container = client.containers.run(image, detach=True, environment=env,
                                      volumes={str(folder): {"bind": "/data", "mode": "ro"}})
    try:
        wait_until(lambda: container.exec_run(["/usr/local/bin/qgis-healthcheck"]).exit_code == 0, 90,
                   "QGIS in the image")
        wms = "SERVICE=WMS&REQUEST=GetCapabilities"
        for name, title in (("sample", SAMPLE_TITLE), ("city", CITY_TITLE)):
            headers, body = _fastcgi(container, f"/ogc/{name}", wms, project_name=name)
            assert f"<Title>{title}</Title>" in body, headers + body[:500]
        headers, body = _fastcgi(container, "/ogc/nothere", wms, project_name="nothere")
        assert re.search(r"^Status:\s+404$", headers, re.M) and "No project is named nothere" in body, headers + body
        # The landing page lists the subfolder's project too: the plugin gave QGIS its folder.
        headers, body = _fastcgi(container, "/index.json")
        assert sorted(p["title"] for p in json.loads(body)["projects"]) == [CITY_TITLE, SAMPLE_TITLE]
    finally:
        container.remove(force=True)
