"""GeoNode's PostgreSQL connections are counted at their most against max_connections, and a
stack that could exhaust them is refused, naming what to change."""
from __future__ import annotations

import configparser
import re

import pytest

from pulumi_geostack.geonode.connections import OWN_UWSGI_PROCESSES, OWN_UWSGI_THREADS
from offline.program_run import PROJECT_ROOT, run_program
from tests.unit.test_config_errors import run_expecting_error
from tests.unit.test_geonode_production import EXTERNAL, USER_PASSWORDS

CONTAINER = "docker:index/container:Container"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
GEONODE_ON = {"dev": {"geostack:geonodeEnabled": "true"}, "staging": {}, "prod": {}}


def test_the_counted_uwsgi_size_is_the_images():
    ini = configparser.ConfigParser(inline_comment_prefixes=(";",))
    ini.read(PROJECT_ROOT / "docker" / "geonode" / "uwsgi.ini")
    assert (int(ini["uwsgi"]["processes"]), int(ini["uwsgi"]["threads"])) == (OWN_UWSGI_PROCESSES, OWN_UWSGI_THREADS)


def test_the_counted_celery_sizes_are_the_declared_commands():
    commands = {c.name: c.inputs.get("command") or [] for c in run_program("dev", GEONODE_ON["dev"]).of_type(CONTAINER)}
    concurrency = {name: int(re.search(r"--concurrency=(\d+)", " ".join(command)).group(1))
                   for name, command in commands.items() if "--concurrency" in " ".join(command)}
    # (4 + 1) and (2 + 1) processes, each with a connection to both databases: the 18 of "Celery" below
    # holds beat's 2 as well.
    assert concurrency == {"geonode-celery": 4, "geonode-celery-harvester": 2}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_default_stacks_fit_geostacks_postgis(stack):
    assert run_program(stack, GEONODE_ON[stack]).error is None


def test_geostacks_postgis_starts_with_the_configured_limit():
    run = run_program("staging", {"geostack:geonodeDatabaseMaxConnections": "500"})
    db = run.one(DEPLOYMENT, "geonode-db-deployment")
    command = db.inputs["spec"]["template"]["spec"]["containers"][0]["args"][0]
    assert "postgres -c max_connections=500 &" in command


def test_too_many_django_replicas_are_refused_with_the_number_that_fits():
    message = run_expecting_error("staging", {"geostack:geonodeDjangoReplicas": "20"})
    # 21 pods in a rollout x 4 processes x 2 threads x 2 databases = 336; with the rest, 367; and 3 reserved.
    assert message.startswith("geostack:geonodeDatabaseMaxConnections must be at least 370 for this stack, got 200: "
                              "at their most its clients hold 367 connections (Django 336, the init task 2, "
                              "Celery 18, GeoServer 10, the backup 1)")
    fits = int(re.search(r"lower geostack:geonodeDjangoReplicas to (\d+)", message).group(1))
    assert run_program("staging", {"geostack:geonodeDjangoReplicas": str(fits)}).error is None
    assert "geonodeDatabaseMaxConnections" in run_expecting_error(
        "staging", {"geostack:geonodeDjangoReplicas": str(fits + 1)})
    raised = run_program("staging", {"geostack:geonodeDjangoReplicas": "20",
                                     "geostack:geonodeDatabaseMaxConnections": "370"})
    assert raised.error is None


def test_docker_counts_no_rollout_pod():
    # Docker replaces a container before starting the next: 11 x 16 = 176, + 31 = 207 > 197.
    assert "at least 210" in run_expecting_error("dev", {**GEONODE_ON["dev"], "geostack:geonodeDjangoReplicas": "11"})
    assert run_program("dev", {**GEONODE_ON["dev"], "geostack:geonodeDjangoReplicas": "10"}).error is None


def test_an_upstream_images_uwsgi_is_counted_at_its_ceiling():
    message = run_expecting_error("staging", {"geostack:geonodeDjangoImage": "geonode/geonode:5.1.1"})
    assert "(an upstream image's uWSGI grows to 128 processes)" in message
    assert "Django 512" in message  # 2 pods x 128 processes x 2 databases
    assert "lower geostack:geonodeDjangoReplicas" not in message  # not even one replica fits in 200


def test_an_existing_server_is_told_to_raise_its_own_limit_too():
    message = run_expecting_error("prod", {**EXTERNAL, "geostack:geonodeDjangoReplicas": "15"}, secrets=USER_PASSWORDS)
    assert "Raise it (and the server's own max_connections)" in message


@pytest.mark.parametrize("stack, overrides, secrets", [
    ("staging", {"geostack:qgisDatabaseHost": "geonode-db"}, {}),  # GeoNode's PostGIS
    ("prod", {**EXTERNAL, "geostack:qgisDatabaseHost": EXTERNAL["geostack:geonodeDatabaseHost"]}, USER_PASSWORDS),
], ids=["geonodes-postgis", "the-same-existing-server"])
def test_qgis_workers_on_the_same_server_are_counted(stack, overrides, secrets):
    # 21 QGIS pods (20 at most, and a rollout's extra one) x 4 workers x 2 connections = 168.
    many_workers = {"geostack:qgisDatabaseName": "maps", "geostack:qgisDatabaseUser": "maps",
                    "geostack:qgisReplicas": "20", "geostack:qgisProcesses": "4"}
    message = run_expecting_error(stack, {**overrides, **many_workers},
                                  secrets={**secrets, "geostack:qgisDatabasePassword": "maps-pass"})
    assert "QGIS Server 168" in message
