"""Projects saved in PostgreSQL, served at /ogc/<name> by the image's geostack_projects plugin,
through the nginx config the staging program renders, in front of Debian's QGIS Server.

A private PostgreSQL with PostGIS (tests/e2e/host_postgres.py) holds projects saved with QGIS's own
API, their layers in the same database. QGIS gets exactly what the program declares with
geostack:qgisDatabase*: its env and the pg_service.conf of its Secret, whose host alone is swapped
for the loopback server's (the declared one is a name the pods would resolve). Both ways the
program can carry the folder's projects are run: a claim, and a folder it ships.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from offline.loopback import (declared_staging_stack, free_port, http_get, loopback_nginx_conf, nginx, qgis_server,
                              scratch_dir)
from tests.e2e.host_postgres import Database, postgis_database
from tests.e2e.postgres_projects import save_project, service_file_on_host
from tests.e2e.project_checks import assert_project_answers, first_answer, logged_lines, wait_for_title
from tests.e2e.project_folders import SAMPLE_TITLE, make_two_project_folder
from tests.e2e.wms_checks import WMS_NS

HARBOUR_TITLE = "Harbour of Tests"
DB_PASSWORD = "gis-test-password"
SCHEMA = "public"
DECLARED_HOST = "maps-db"
SERVICE = "geostack"  # geostack:qgisDatabaseService's default
REFRESH_SECONDS = 2


@pytest.fixture(scope="module")
def database():
    with postgis_database(password=DB_PASSWORD) as db:
        yield db


@pytest.fixture(scope="module")
def service_file(database):
    """The declared pg_service.conf, its host swapped for the loopback server's; with it, the
    projects every test serves are saved."""
    declared = declared_with_database(database, "claim", None)
    (path, content), = declared["secret_files"].items()
    assert declared["env"]["PGSERVICEFILE"] == path and DB_PASSWORD not in str(declared["env"])
    with scratch_dir("geostack-secrets-") as secrets:
        on_host = service_file_on_host(content, DECLARED_HOST, database.host, database.port,
                                       secrets / "pg_service.conf")
        save_project(on_host, SERVICE, SCHEMA, "harbour", HARBOUR_TITLE)
        save_project(on_host, SERVICE, SCHEMA, "city", "City saved in PostgreSQL")  # the folder has a city too
        yield {"path": on_host, "declared": content}


def declared_with_database(db: Database, carrier: str, folder) -> dict:
    """The staging stack's declarations for projects in `db`, beside a claim or a shipped folder."""
    where = {"geostack:qgisDataClaim": "maps"} if carrier == "claim" else {"geostack:qgisProjectDir": str(folder)}
    return declared_staging_stack({
        **where,
        "geostack:qgisDatabaseHost": DECLARED_HOST, "geostack:qgisDatabasePort": str(db.port),
        "geostack:qgisDatabaseName": db.name, "geostack:qgisDatabaseUser": db.user,
        "geostack:qgisDatabaseSchema": SCHEMA, "geostack:qgisDatabaseSslMode": "disable",
        "geostack:qgisDatabaseRefreshSeconds": str(REFRESH_SECONDS),
    }, secrets={"geostack:qgisDatabasePassword": db.password})


@pytest.fixture(scope="module", params=["claim", "folder"])
def stack(request, database, service_file):
    qgis_port, nginx_port = free_port(), free_port()
    with scratch_dir("geostack-projects-") as folder:
        make_two_project_folder(folder)
        declared = declared_with_database(database, request.param, folder)
        assert declared["secret_files"] == {declared["env"]["PGSERVICEFILE"]: service_file["declared"]}
        env = {**declared["env"], "PGSERVICEFILE": str(service_file["path"])}
        with qgis_server(env, folder, qgis_port) as qgis, scratch_dir("geostack-nginx-") as scratch:
            conf = loopback_nginx_conf(declared["nginx_conf"], nginx_port, declared["upstream"], qgis_port, scratch,
                                       folder)
            with nginx(conf, nginx_port, scratch) as base_url:
                yield {"url": base_url, "qgis_log": qgis["log"], "carrier": request.param}


def test_a_project_saved_in_postgresql_answers_at_its_own_address(stack):
    assert_project_answers(stack["url"], "harbour", HARBOUR_TITLE, key_field="fid")


def test_a_project_saved_after_the_server_started_is_served_without_a_restart(stack, service_file):
    save_project(service_file["path"], SERVICE, SCHEMA, f"quay_{stack['carrier']}", "Quay of Tests")
    assert first_answer(f"{stack['url']}/ogc/quay_{stack['carrier']}") == "Quay of Tests"


def test_a_project_of_the_folder_is_still_served(stack):
    assert first_answer(stack["url"] + "/ogc/sample") == SAMPLE_TITLE


def test_a_name_both_in_the_folder_and_in_postgresql_is_refused_and_logged(stack):
    assert http_get(f"{stack['url']}/ogc/city?SERVICE=WMS&REQUEST=GetCapabilities")[0] == 404
    logged = logged_lines(stack["qgis_log"], "project=city share its name")
    assert f"postgresql:///?service=geostack&schema={SCHEMA}&project=city" in logged[0]
    assert DB_PASSWORD not in stack["qgis_log"].read_text()


def test_a_project_saved_again_is_served_once_the_refresh_interval_has_passed(stack, service_file):
    name = f"pier_{stack['carrier']}"
    save_project(service_file["path"], SERVICE, SCHEMA, name, "Pier before the edit")
    url = f"{stack['url']}/ogc/{name}"
    assert first_answer(url) == "Pier before the edit"
    save_project(service_file["path"], SERVICE, SCHEMA, name, "Pier after the edit")
    wait_for_title(url, "Pier after the edit", REFRESH_SECONDS * 5 + 10)


def test_the_landing_page_lists_the_saved_project_and_its_link_opens_it(stack):
    status, _, body = http_get(stack["url"] + "/index.html")
    assert status == 200
    ids = dict(re.findall(r'<tr class="project" id="([0-9a-f]{32})">\s*<td><strong>([^<]*)<', body.decode()))
    harbour = next(project_id for project_id, title in ids.items() if title == HARBOUR_TITLE)
    status, _, body = http_get(f"{stack['url']}/project/{harbour}?SERVICE=WMS&REQUEST=GetCapabilities")
    assert status == 200
    assert ET.fromstring(body).findtext("wms:Service/wms:Title", namespaces=WMS_NS) == HARBOUR_TITLE
