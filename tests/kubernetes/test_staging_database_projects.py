"""Projects saved in PostgreSQL, served by the staging stack on the test cluster.

A PostGIS pod (the stand-in of GeoNode's PostGIS, Debian's packages, from the cluster's registry)
runs in a namespace of its own, as a team's database server lives apart from the map service, with
a Service the QGIS pods reach by its cluster name and a NodePort this host saves projects through,
with QGIS's own API. The stack gets geostack:qgisDatabase* with `pulumi config set` (the password
with --secret) and `pulumi up`, and goes back to its own config afterwards.
"""
from __future__ import annotations

import base64
import json

import pytest

from offline.loopback import http_get
from tests.e2e.postgres_projects import save_project, service_file_on_host
from tests.e2e.project_checks import assert_project_answers, first_answer, wait_for_title

DB_NAMESPACE = "geostack-test-maps-db"
DB_HOST = f"maps-db.{DB_NAMESPACE}.svc.cluster.local"
DB_NODE_PORT = 30543
DB_NAME = "geonode_data"  # the stand-in makes it with PostGIS, owned by a user of the same name
DB_PASSWORD = "maps-cluster-password"
SERVICE, SCHEMA, REFRESH_SECONDS = "geostack", "public", 2
HARBOUR_TITLE = "Harbour on the cluster"
CONFIG = {"qgisDatabaseHost": DB_HOST, "qgisDatabaseName": DB_NAME, "qgisDatabaseUser": DB_NAME,
          "qgisDatabaseSchema": SCHEMA, "qgisDatabaseSslMode": "disable",
          "qgisDatabaseRefreshSeconds": str(REFRESH_SECONDS)}


def postgis_objects(image: str) -> dict:
    labels = {"app": "maps-db"}
    env = {"POSTGRES_PASSWORD": "unused-superuser-password", "GEONODE_DATABASE": "geonode",
           "GEONODE_DATABASE_PASSWORD": "unused-password", "GEONODE_GEODATABASE": DB_NAME,
           "GEONODE_GEODATABASE_PASSWORD": DB_PASSWORD}
    return {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": DB_NAMESPACE}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "maps-db", "namespace": DB_NAMESPACE,
                                                         "labels": labels},
         "spec": {"containers": [{
             "name": "postgis", "image": image, "ports": [{"containerPort": 5432}],
             "env": [{"name": key, "value": value} for key, value in env.items()],
             "readinessProbe": {"exec": {"command": ["pg_isready", "-h", "127.0.0.1"]}, "periodSeconds": 2},
             "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "maps-db", "namespace": DB_NAMESPACE},
         "spec": {"type": "NodePort", "selector": labels,
                  "ports": [{"port": 5432, "targetPort": 5432, "nodePort": DB_NODE_PORT}]}},
    ]}


@pytest.fixture(scope="module")
def database(staging, images):
    cluster = staging.cluster
    cluster.kubectl("apply", "-f", "-", input=json.dumps(postgis_objects(images.geonode_stand_ins["geonodePostgisImage"])))
    try:
        cluster.kubectl("wait", "-n", DB_NAMESPACE, "--for=condition=Ready", "pod/maps-db", "--timeout=180s",
                        timeout=200)
        yield
    finally:
        cluster.kubectl("delete", "namespace", DB_NAMESPACE, "--timeout=120s", timeout=150, check=False)


@pytest.fixture(scope="module")
def with_database(staging, database, tmp_path_factory):
    """The stack with the database's projects; with the pg_service.conf the API server holds, its
    address swapped for the NodePort, this host saves the project the tests serve."""
    workspace = staging.workspace
    workspace.ok("config", "set", "--secret", "geostack:qgisDatabasePassword", DB_PASSWORD)
    try:
        staging.set_and_up(**CONFIG)
        stored = staging.cluster.kubectl("get", "secret", "qgis-server-env", "-n", staging.namespace,
                                         "-o", "jsonpath={.data.pg_service\\.conf}").stdout
        service_file = service_file_on_host(base64.b64decode(stored).decode(), DB_HOST, "localhost", DB_NODE_PORT,
                                            tmp_path_factory.mktemp("secrets") / "pg_service.conf")
        save_project(service_file, SERVICE, SCHEMA, "harbour", HARBOUR_TITLE)
        yield {"service_file": service_file}
    finally:
        for key in (*CONFIG, "qgisDatabasePassword"):
            workspace.ok("config", "rm", f"geostack:{key}")
            staging.config.pop(key, None)
        staging.up()
        staging.settle()


def test_a_project_saved_in_postgresql_is_served_through_the_node_port(staging, with_database):
    assert_project_answers(staging.base, "harbour", HARBOUR_TITLE, key_field="fid")


def test_the_landing_page_lists_it(staging, with_database):
    status, _, body = http_get(staging.base + "/index.json")
    assert status == 200
    assert HARBOUR_TITLE in {project["title"] for project in json.loads(body)["projects"]}


def test_an_edit_saved_into_the_database_is_served_once_the_refresh_interval_has_passed(staging, with_database):
    url = staging.base + "/ogc/harbour"
    assert first_answer(url) == HARBOUR_TITLE
    save_project(with_database["service_file"], SERVICE, SCHEMA, "harbour", "Harbour after the edit")
    wait_for_title(url, "Harbour after the edit", REFRESH_SECONDS * 5 + 10)


def test_the_password_is_only_in_the_secret_file_readable_by_qgis(staging, with_database):
    pod, *_ = staging.ready_pods("qgis-server")
    env = pod["spec"]["containers"][0]["env"]
    assert not [item for item in env if DB_PASSWORD in json.dumps(item)]
    stat = staging.cluster.kubectl("exec", "-n", staging.namespace, pod["metadata"]["name"], "--",
                                   "stat", "-L", "-c", "%a %u %g", "/etc/geostack/pg_service.conf").stdout
    assert stat.split() == ["440", "0", "10001"]  # root's, readable by the group QGIS runs as, and no one else
    configmaps = staging.cluster.kubectl("get", "configmaps", "-n", staging.namespace, "-o", "json").stdout
    assert DB_PASSWORD not in configmaps


def test_preview_right_after_up_shows_no_changes(staging, with_database):
    staging.workspace.ok("preview", "--expect-no-changes", "--diff")
