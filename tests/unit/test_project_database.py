"""Projects saved in PostgreSQL (geostack:qgisDatabase*): what the program declares on each target,
and the mistakes it refuses before declaring anything."""
from __future__ import annotations

import pytest

from pulumi_geostack.project_database import SERVICE_FILE
from pulumi_geostack.targets.kubernetes_pods import SECRET_FILE_MODE
from offline.program_run import run_program
from tests.unit.test_config_errors import run_expecting_error

CONTAINER = "docker:index/container:Container"
PASSWORD = "pr0jects-#pw"
DATABASE = {"geostack:qgisDatabaseHost": "maps-db.example.org", "geostack:qgisDatabaseName": "gis",
            "geostack:qgisDatabaseUser": "qgis_server", "geostack:qgisDatabaseSchema": "maps",
            "geostack:qgisDatabaseSslMode": "verify-full"}
SECRETS = {"geostack:qgisDatabasePassword": PASSWORD}
SERVICE = ("[geostack]\nhost=maps-db.example.org\nport=5432\ndbname=gis\nuser=qgis_server\n"
           f"password={PASSWORD}\nsslmode=verify-full\nsslrootcert=system\n")
STORAGE_URI = "postgresql:///?service=geostack&schema=maps"


def qgis_pod(run) -> dict:
    return run.one("kubernetes:apps/v1:Deployment", "qgis-server-deployment").inputs["spec"]["template"]["spec"]


def test_kubernetes_gets_the_connection_as_a_file_of_a_secret_readable_by_qgis_only():
    run = run_program("staging", DATABASE, secrets=SECRETS)
    secret = run.one("kubernetes:core/v1:Secret", "qgis-server-env")
    assert secret.inputs["stringData"] == {"pg_service.conf": SERVICE}
    assert "stringData" in secret.secret_inputs
    pod = qgis_pod(run)
    volume = next(v for v in pod["volumes"] if "secret" in v)
    assert volume["secret"] == {"secretName": "qgis-server-env", "defaultMode": SECRET_FILE_MODE,
                                "items": [{"key": "pg_service.conf", "path": "pg_service.conf"}]}
    container = pod["containers"][0]
    mount = next(m for m in container["volumeMounts"] if m["name"] == volume["name"])
    assert mount == {"name": volume["name"], "mountPath": SERVICE_FILE, "subPath": "pg_service.conf", "readOnly": True}
    # 0440: the owner (root) and the pod's fsGroup, which is the group QGIS runs as.
    assert pod["securityContext"]["fsGroup"] == container["securityContext"]["runAsGroup"] == 10001
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_qgis_learns_where_the_projects_are_but_never_the_password(stack):
    run = run_program(stack, DATABASE, secrets=SECRETS)
    if stack == "dev":
        env = dict(item.split("=", 1) for item in run.one(CONTAINER, "qgis-server").inputs["envs"])
    else:
        env = {item["name"]: item["value"] for item in qgis_pod(run)["containers"][0]["env"]}
    expected = {
        "PGSERVICEFILE": SERVICE_FILE,
        "GEOSTACK_PROJECTS_POSTGRES": STORAGE_URI,
        "QGIS_SERVER_LANDING_PAGE_PROJECTS_PG_CONNECTIONS": STORAGE_URI,
        "QGIS_SERVER_PROJECT_CACHE_STRATEGY": "periodic",
        "QGIS_SERVER_PROJECT_CACHE_CHECK_INTERVAL": "30000",
        # The plugin also finds the folder's projects by name: nginx now passes every /ogc/ name on.
        "GEOSTACK_PROJECTS_ROOT": "/data",
    }
    assert {key: env.get(key) for key in expected} == expected
    for registration in run.resources:
        if registration.name.startswith("qgis"):
            assert PASSWORD not in str({k: v for k, v in registration.inputs.items()
                                        if k not in registration.secret_inputs}), registration.name
    assert "fastcgi_param GEOSTACK_PROJECT_NAME $qgis_project_name;" in run.nginx_config("qgis-nginx")


def test_docker_copies_the_file_in_as_a_secret():
    run = run_program("dev", DATABASE, secrets=SECRETS)
    container = run.one(CONTAINER, "qgis-server")
    assert container.inputs["uploads"] == [{"file": SERVICE_FILE, "content": SERVICE}]
    assert "uploads" in container.secret_inputs
    # The engine copies files only into a writable root filesystem.
    assert container.inputs["readOnly"] is False


def test_without_a_database_qgis_keeps_its_read_only_root_and_the_folder_route():
    run = run_program("dev")
    container = run.one(CONTAINER, "qgis-server")
    assert container.inputs["readOnly"] is True and not container.inputs.get("uploads")
    assert not [item for item in container.inputs["envs"] if "PG" in item]
    assert "GEOSTACK_PROJECT_NAME" not in run.nginx_config("qgis-nginx")


@pytest.mark.parametrize("overrides, secrets, expected", [
    ({"geostack:qgisDatabaseHost": "maps-db"}, SECRETS,
     ["geostack:qgisDatabaseName must be set when geostack:qgisDatabaseHost is (the database the projects are in), "
      "got ''",
      "geostack:qgisDatabaseUser must be set when geostack:qgisDatabaseHost is (the user QGIS Server connects as), "
      "got ''"]),
    (DATABASE, {},
     ["geostack:qgisDatabasePassword must be set with `pulumi config set --secret geostack:qgisDatabasePassword` "
      "when geostack:qgisDatabaseHost is (the password of geostack:qgisDatabaseUser), got nothing"]),
    ({}, SECRETS, ["geostack:qgisDatabasePassword must be unset unless geostack:qgisDatabaseHost names the "
                   "PostgreSQL server of QGIS projects, got a value"]),
    ({"geostack:qgisDatabaseSchema": "maps"}, {},
     ["geostack:qgisDatabaseSchema must stay 'public' unless geostack:qgisDatabaseHost names the PostgreSQL server "
      "of QGIS projects (it applies to nothing else), got 'maps'"]),
    ({**DATABASE, "geostack:qgisDatabaseHost": "localhost"}, SECRETS,
     ["geostack:qgisDatabaseHost must name the server as the QGIS containers reach it, not loopback, which is each "
      "container itself (on Docker: a container on the stack's network, or the host's address on it), "
      "got 'localhost'"]),
    ({**DATABASE, "geostack:qgisDatabaseHost": "geonode-db"}, SECRETS,
     ["geostack:qgisDatabaseHost must name a server QGIS can reach: geonode-db is GeoNode's PostGIS, which this "
      "stack runs only with geostack:geonodeEnabled true and no geostack:geonodeDatabaseHost, got 'geonode-db'"]),
    ({**DATABASE, "geostack:qgisDatabaseSchema": "my-maps"}, SECRETS,
     ["geostack:qgisDatabaseSchema must be an SQL identifier such as public or maps (letters, digits, _ or $, not "
      "starting with a digit, at most 63), got 'my-maps'"]),
    ({**DATABASE, "geostack:qgisDatabaseSchema": "1maps"}, SECRETS,
     ["geostack:qgisDatabaseSchema must be an SQL identifier such as public or maps (letters, digits, _ or $, not "
      "starting with a digit, at most 63), got '1maps'"]),
    ({**DATABASE, "geostack:qgisDatabaseName": "gis\nhost=evil"}, SECRETS,
     ["geostack:qgisDatabaseName must be a database name such as gis (or empty), got 'gis\\nhost=evil'"]),
    ({**DATABASE, "geostack:qgisDatabaseSslMode": "verify-ca"}, SECRETS,
     ["geostack:qgisDatabaseSslMode must be one of disable, allow, prefer, require, verify-full, got 'verify-ca'"]),
    (DATABASE, {"geostack:qgisDatabasePassword": "two\nlines"},
     ["geostack:qgisDatabasePassword must be one line without spaces at its ends (it becomes a line of "
      "pg_service.conf), got a value that is not"]),
])
def test_an_incomplete_or_wrong_connection_is_refused_naming_the_key(overrides, secrets, expected):
    message = run_expecting_error("dev", overrides, secrets=secrets)
    assert message.splitlines() == expected
    assert "two\nlines" not in message and PASSWORD not in message


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_projects_in_geonodes_postgis_let_qgis_reach_it_and_no_one_else(stack):
    """With GeoNode on, its PostGIS may hold the projects: QGIS joins the workloads its policy lets in."""
    run = run_program(stack, {**DATABASE, "geostack:geonodeEnabled": "true", "geostack:qgisDatabaseHost": "geonode-db",
                              "geostack:qgisDatabaseName": "geonode_data", "geostack:qgisDatabaseUser": "geonode_data"},
                      secrets=SECRETS)
    env = (run.one(CONTAINER, "qgis-server").inputs["envs"] if stack == "dev"
           else [f"{e['name']}={e['value']}" for e in qgis_pod(run)["containers"][0]["env"]])
    assert "GEOSTACK_PROJECTS_POSTGRES=" + STORAGE_URI in env
    if stack == "staging":
        policy = run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "geonode-db-ingress-policy").inputs["spec"]
        allowed = {peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for peer in policy["ingress"][0]["from"]}
        assert "qgis-server" in allowed and "qgis-nginx" not in allowed
        without = run_program(stack, {"geostack:geonodeEnabled": "true"})
        policy = without.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "geonode-db-ingress-policy").inputs["spec"]
        assert "qgis-server" not in {peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                                     for peer in policy["ingress"][0]["from"]}
