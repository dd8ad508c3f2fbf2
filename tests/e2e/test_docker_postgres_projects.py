"""Projects saved in PostgreSQL, served by the dev stack on a real Docker engine.

The dev stack with geostack:qgisDatabase* set (everything else as Pulumi.dev.yaml), created by the
strict stand-in realizer: the QGIS image built from the repo, and pg_service.conf copied into the
QGIS container the way the docker provider copies uploads. The PostgreSQL is a container of
Debian's PostGIS (the stand-in GeoNode's tests use, which makes the geonode_data database) on the
stack's network, which QGIS reaches by name; it is also published on loopback, so this host saves
projects into it with QGIS's own API, as a QGIS Desktop user would.
"""
from __future__ import annotations

import json
import uuid

import pytest

from offline.loopback import free_port, http_get, scratch_dir, wait_until
from offline.program_run import run_program
from tests.e2e.docker_engine import NGINX_STAND_IN, docker_engine, ensure_base_image
from tests.e2e.docker_realizer import CONTAINER, NETWORK, DockerRealizer
from tests.e2e.declared_builds import HOST_CA_CONFIG
from tests.e2e.image_cache import cached_image
from tests.e2e.postgres_projects import save_project, service_file_on_host
from tests.e2e.project_checks import assert_project_answers, first_answer, wait_for_title
from tests.e2e.project_folders import SAMPLE_TITLE

pytestmark = pytest.mark.timeout(1800)  # builds the QGIS image when nothing is cached

POSTGIS_STAND_IN = NGINX_STAND_IN.parent / "postgis-debian"
DB_HOST = "maps-db"  # the server's name on the stack's network
DB_NAME = "geonode_data"  # the stand-in makes it with PostGIS, owned by a user of the same name
DB_PASSWORD = "maps-test-password"
SERVICE, SCHEMA, REFRESH_SECONDS = "geostack", "public", 2
HARBOUR_TITLE = "Harbour on Docker"


@pytest.fixture(scope="module")
def engine():
    with docker_engine() as client:
        yield client


def start_postgis(engine, network: str, host_port: int):
    image = "geostack-test/postgis:e2e"
    cached_image(engine, POSTGIS_STAND_IN, "postgis-debian", image)
    container = engine.containers.create(
        image, name=f"geostack-test-maps-db-{uuid.uuid4().hex[:8]}", ports={"5432/tcp": ("127.0.0.1", host_port)},
        environment={"POSTGRES_PASSWORD": "unused-superuser-password", "GEONODE_DATABASE": "geonode",
                     "GEONODE_DATABASE_PASSWORD": "unused-password", "GEONODE_GEODATABASE": DB_NAME,
                     "GEONODE_GEODATABASE_PASSWORD": DB_PASSWORD})
    engine.networks.get(network).connect(container, aliases=[DB_HOST])
    container.start()
    return container


@pytest.fixture(scope="module")
def deployed(engine):
    run = run_program("dev", {
        "geostack:qgisDatabaseHost": DB_HOST, "geostack:qgisDatabaseName": DB_NAME,
        "geostack:qgisDatabaseUser": DB_NAME, "geostack:qgisDatabaseSchema": SCHEMA,
        "geostack:qgisDatabaseSslMode": "disable", "geostack:qgisDatabaseRefreshSeconds": str(REFRESH_SECONDS),
        **HOST_CA_CONFIG,
    }, secrets={"geostack:qgisDatabasePassword": DB_PASSWORD})
    nginx = run.one(CONTAINER, "qgis-nginx")
    ensure_base_image(engine)
    cached_image(engine, NGINX_STAND_IN, "nginx-debian", nginx.inputs["image"])
    declared_port = int(nginx.inputs["ports"][0]["external"])
    realizer = DockerRealizer(engine, run, host_ports={declared_port: free_port()})
    database = None
    try:
        realizer.realize()
        db_port = free_port()
        database = start_postgis(engine, run.one(NETWORK).inputs["name"], db_port)
        upload, = run.one(CONTAINER, "qgis-server").inputs["uploads"]
        with scratch_dir("geostack-secrets-") as secrets:
            service_file = service_file_on_host(upload["content"], DB_HOST, "127.0.0.1", db_port,
                                                secrets / "pg_service.conf")
            wait_until(lambda: database.exec_run(["pg_isready", "-h", "127.0.0.1"]).exit_code == 0, 60,
                       "PostGIS on Docker")
            save_project(service_file, SERVICE, SCHEMA, "harbour", HARBOUR_TITLE)
            yield {"realizer": realizer, "run": run, "service_file": service_file,
                   "base": f"http://127.0.0.1:{realizer.host_ports[declared_port]}"}
    finally:
        if database is not None:
            database.remove(force=True, v=True)
        realizer.destroy()


def qgis_container(deployed):
    realizer = deployed["realizer"]
    return realizer.client.containers.get(realizer.containers["qgis-server"])


def test_a_project_saved_in_postgresql_is_served_through_nginx(deployed):
    assert_project_answers(deployed["base"], "harbour", HARBOUR_TITLE, key_field="fid")


def test_the_folders_project_is_still_served(deployed):
    assert first_answer(deployed["base"] + "/ogc/sample") == SAMPLE_TITLE


def test_the_landing_page_lists_the_saved_project(deployed):
    status, _, body = http_get(deployed["base"] + "/index.json")
    assert status == 200
    assert {project["title"] for project in json.loads(body)["projects"]} >= {HARBOUR_TITLE, SAMPLE_TITLE}


def test_an_edit_saved_into_the_database_is_served_once_the_refresh_interval_has_passed(deployed):
    url = deployed["base"] + "/ogc/harbour"
    assert first_answer(url) == HARBOUR_TITLE
    save_project(deployed["service_file"], SERVICE, SCHEMA, "harbour", "Harbour after the edit")
    wait_for_title(url, "Harbour after the edit", REFRESH_SECONDS * 5 + 10)


def test_the_password_reaches_qgis_only_in_its_service_file(deployed):
    container = qgis_container(deployed)
    container.reload()
    assert not [item for item in container.attrs["Config"]["Env"] if DB_PASSWORD in item]
    listing = container.exec_run(["stat", "-c", "%a %u", "/etc/geostack/pg_service.conf"])
    assert listing.output.decode().split() == ["644", "0"]  # as the provider copies it: root's, readable
    content = container.exec_run(["cat", "/etc/geostack/pg_service.conf"], user="10001").output.decode()
    assert f"password={DB_PASSWORD}\n" in content and f"host={DB_HOST}\n" in content
