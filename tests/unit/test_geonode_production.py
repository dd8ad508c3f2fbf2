"""GeoNode's production options, run under mocks: settings module and extra settings, mail,
an external PostgreSQL server and how long the first rollout may take."""
from __future__ import annotations

import re

import pytest

from offline.program_run import run_program
from tests.unit.test_config_errors import run_expecting_error
from tests.unit.test_geonode import (
    CONTAINER,
    DJANGO_LIKE,
    GEONODE_ON,
    JOB,
    NETWORK_POLICY,
    RANDOM,
    SECRET,
    secret_value,
    workloads,
)
from tests.unit.test_geonode import _strings as strings

# An upstream image's uWSGI grows to 128 processes: its connections need a higher limit.
UPSTREAM = {"geostack:geonodeDjangoImage": "geonode/geonode:5.1.1", "geostack:geonodeDatabaseMaxConnections": "600"}
EXTRA = "TIME_ZONE = 'Europe/Rome'\nLANGUAGE_CODE = 'it'\n"


def django_like_env(overrides: dict[str, str], stack: str = "staging") -> dict[str, dict[str, str]]:
    found = workloads(run_program(stack, overrides))
    return {name: found[name]["env"] for name in DJANGO_LIKE}


def test_geostacks_image_loads_geostack_settings_and_an_upstream_image_geonodes():
    for name, env in django_like_env({}).items():
        assert env["DJANGO_SETTINGS_MODULE"] == "geostack_settings", name
        assert "C_FORCE_ROOT" not in env, f"{name}: geostack's image runs Celery as UID 10002, not root"
    for name, env in django_like_env(UPSTREAM).items():
        assert env["DJANGO_SETTINGS_MODULE"] == "geonode.settings", name
        assert env["C_FORCE_ROOT"] == "1", f"{name}: the upstream image runs Celery as root"
        assert "CSRF_TRUSTED_ORIGINS" not in env and "GEOSTACK_EXTRA_SETTINGS" not in env, name


def test_extra_settings_reach_every_django_process_as_plain_env():
    for name, env in django_like_env({"geostack:geonodeExtraSettings": EXTRA}).items():
        assert env["GEOSTACK_EXTRA_SETTINGS"] == EXTRA, name
    for name, env in django_like_env({}).items():
        assert "GEOSTACK_EXTRA_SETTINGS" not in env, f"{name}: nothing to run by default"
    geoserver = workloads(run_program("staging", {"geostack:geonodeExtraSettings": EXTRA}))["geonode-geoserver"]
    assert "GEOSTACK_EXTRA_SETTINGS" not in geoserver["env"]


def test_extra_settings_with_an_upstream_image_are_refused():
    message = run_expecting_error("staging", {**UPSTREAM, "geostack:geonodeExtraSettings": EXTRA})
    assert message == ("geostack:geonodeExtraSettings must be empty when geostack:geonodeDjangoImage is set "
                       "(only geostack's GeoNode image loads it), got a value")


def test_extra_settings_that_do_not_compile_are_refused():
    message = run_expecting_error("staging", {"geostack:geonodeExtraSettings": "TIME_ZONE ="})
    assert message == ("geostack:geonodeExtraSettings must be Python statements that compile (or empty), "
                       "got 'TIME_ZONE ='")


@pytest.mark.parametrize("stack, overrides, origin", [
    ("dev", GEONODE_ON["dev"], "http://localhost:8000"),
    ("staging", {}, "http://geonode.staging.internal"),
    ("staging", {"geostack:geonodeTlsSecret": "maps-tls"}, "https://geonode.staging.internal"),
    ("prod", {}, "https://maps.example.org"),
])
def test_django_trusts_the_sites_origin_for_csrf(stack, overrides, origin):
    # Behind a TLS-terminating Ingress Django sees HTTP; without this the login POST gets a CSRF 403.
    for name, env in django_like_env(overrides, stack).items():
        assert env["CSRF_TRUSTED_ORIGINS"] == origin, name


SMTP = {"geostack:geonodeEmailHost": "smtp.example.org", "geostack:geonodeEmailUser": "maps@example.org"}
SMTP_PASSWORD = {"geostack:geonodeEmailPassword": "Smtp-pass:with/url@chars"}


def test_mail_is_off_unless_a_server_is_configured():
    run = run_program("staging")
    found = workloads(run)
    for name in DJANGO_LIKE:
        env = found[name]["env"]
        assert env["EMAIL_ENABLE"] == "False", f"{name}: GeoNode then uses Django's console backend"
        assert not [key for key in env if key.startswith("DJANGO_EMAIL_")], name
        assert "DJANGO_EMAIL_HOST_PASSWORD" not in found[name]["refs"], name


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_mail_settings_reach_django_celery_and_the_init_task(stack):
    run = run_program(stack, {**GEONODE_ON[stack], **SMTP}, secrets=SMTP_PASSWORD)
    found = workloads(run)
    host = {"dev": "localhost", "staging": "geonode.staging.internal"}[stack]
    password = SMTP_PASSWORD["geostack:geonodeEmailPassword"]
    for name in DJANGO_LIKE:
        env = found[name]["env"]
        plain = {key: env[key] for key in env if "EMAIL" in key and key != "ADMIN_EMAIL"}
        if stack == "dev":  # Docker's env list holds the secret entries too (as secrets: see below)
            assert plain.pop("DJANGO_EMAIL_HOST_PASSWORD") == password
        assert plain == {
            "EMAIL_ENABLE": "True",
            "DJANGO_EMAIL_HOST": "smtp.example.org",
            "DJANGO_EMAIL_PORT": "587",
            "DJANGO_EMAIL_HOST_USER": "maps@example.org",
            "DJANGO_EMAIL_USE_TLS": "True",
            "DJANGO_EMAIL_USE_SSL": "False",
            "DEFAULT_FROM_EMAIL": f"GeoNode <no-reply@{host}>",
        }, name
        assert secret_value(run, found[name], "DJANGO_EMAIL_HOST_PASSWORD") == password, name
    assert "DJANGO_EMAIL_HOST" not in found["geonode-geoserver"]["env"]


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_the_smtp_password_travels_only_as_a_secret(stack):
    password = SMTP_PASSWORD["geostack:geonodeEmailPassword"]
    run = run_program(stack, {**GEONODE_ON[stack], **SMTP}, secrets=SMTP_PASSWORD)
    in_secret_inputs = 0
    for resource in run.resources:
        if resource.type == SECRET:
            continue
        for path, text in strings(resource.inputs):
            if password in text:
                assert path.split(".")[1].split("[")[0] in resource.secret_inputs, \
                    f"{resource.type} {resource.name}{path} holds the SMTP password in plaintext"
                in_secret_inputs += 1
    # Docker: a secret env entry of each Django-like container; Kubernetes: only the Secrets.
    assert in_secret_inputs == (len(DJANGO_LIKE) if stack == "dev" else 0)
    secrets = [s for s in run.of_type(SECRET) if "DJANGO_EMAIL_HOST_PASSWORD" in s.inputs["stringData"]]
    assert {s.inputs["metadata"]["name"] for s in secrets} == ({f"{name}-env" for name in DJANGO_LIKE}
                                                               if stack == "staging" else set())
    assert all("stringData" in s.secret_inputs for s in secrets)


def test_a_configured_sender_port_and_plain_smtp():
    env = django_like_env({**SMTP, "geostack:geonodeEmailFrom": "Maps <maps@example.org>",
                           "geostack:geonodeEmailPort": "2525", "geostack:geonodeEmailTls": "false"})["geonode-django"]
    assert env["DEFAULT_FROM_EMAIL"] == "Maps <maps@example.org>"
    assert env["DJANGO_EMAIL_PORT"] == "2525" and env["DJANGO_EMAIL_USE_TLS"] == "False"


@pytest.mark.parametrize("overrides, secrets, expected", [
    ({"geostack:geonodeEmailUser": "maps"}, {},
     "geostack:geonodeEmailUser must be empty when geostack:geonodeEmailHost is empty (no SMTP server to use it "
     "with), got 'maps'"),
    ({"geostack:geonodeEmailFrom": "maps@example.org"}, {},
     "geostack:geonodeEmailFrom must be empty when geostack:geonodeEmailHost is empty (no SMTP server to use it "
     "with), got 'maps@example.org'"),
    ({}, SMTP_PASSWORD,
     "geostack:geonodeEmailPassword must be unset when geostack:geonodeEmailHost is empty (no SMTP server to log "
     "in to), got a value"),
    ({"geostack:geonodeEmailHost": "smtp.example.org"}, SMTP_PASSWORD,
     "geostack:geonodeEmailUser must be set when geostack:geonodeEmailPassword is (Django logs in to the SMTP "
     "server only with both), got ''"),
    ({**SMTP, "geostack:geonodeEmailPort": "0"}, {},
     "geostack:geonodeEmailPort must be an integer from 1 to 65535, got '0'"),
    ({**SMTP, "geostack:geonodeEmailFrom": "GeoNode"}, {},
     "geostack:geonodeEmailFrom must be an address, optionally with a name: Maps <maps@example.org> (or empty), "
     "got 'GeoNode'"),
])
def test_bad_mail_settings_name_the_key(overrides, secrets, expected):
    assert run_expecting_error("staging", overrides, secrets) == expected


def test_the_smtp_password_must_be_set_as_a_secret():
    message = run_expecting_error("staging", {**SMTP, **SMTP_PASSWORD})
    assert message == ("geostack:geonodeEmailPassword must be set with `pulumi config set --secret "
                       "geostack:geonodeEmailPassword` so it is stored encrypted, got a plaintext value")


RDS = "geonode.abc123.eu-west-1.rds.amazonaws.com"
EXTERNAL = {"geostack:geonodeDatabaseHost": RDS, "geostack:geonodeDatabasePort": "6543",
            "geostack:geonodeDatabaseSslMode": "require"}
USER_PASSWORDS = {"geostack:geonodeDatabasePassword": "Db-pass:with/url@chars",
                  "geostack:geonodeGeodatabasePassword": "Geodb-pass"}


@pytest.mark.parametrize("stack", GEONODE_ON)
def test_an_existing_database_server_replaces_postgis(stack):
    run = run_program(stack, {**GEONODE_ON[stack], **EXTERNAL}, secrets=USER_PASSWORDS)
    found = workloads(run)
    assert "geonode-db" not in found
    assert not [r.name for r in run.resources if r.name.startswith(("geonode-db", "geonode-dbdata"))]
    assert not [r.name for r in run.of_type(RANDOM) if "postgres" in r.name or "database" in r.name], \
        "the superuser is not ours and the users' passwords are given"
    for name in (*DJANGO_LIKE, "geonode-geoserver"):
        env = found[name]["env"]
        assert (env["DATABASE_HOST"], env["DATABASE_PORT"]) == (RDS, "6543"), name
    for name in DJANGO_LIKE:
        assert secret_value(run, found[name], "DATABASE_URL") == (
            f"postgis://geonode:Db-pass%3Awith%2Furl%40chars@{RDS}:6543/geonode?sslmode=require"), name
        assert secret_value(run, found[name], "GEODATABASE_URL") == (
            f"postgis://geonode_data:Geodb-pass@{RDS}:6543/geonode_data?sslmode=require"), name
    # GeoNode's nginx still routes to Django and GeoServer, which no longer wait for a database workload.
    conf = run.nginx_config("geonode")
    for address in ("geonode-django:8000", "geonode-geoserver:8080"):  # directly, or through a variable on Docker
        assert re.search(rf"(proxy_pass http://|set \$\w+ ){address};", conf), address


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_nothing_waits_for_a_database_pod_when_the_server_is_external(stack):
    run = run_program(stack, EXTERNAL, secrets=USER_PASSWORDS)
    found = workloads(run)
    for name in (*DJANGO_LIKE, "geonode-geoserver"):
        scripts = " ".join(c["command"][2] for c in found[name]["pod"].get("initContainers", []))
        assert "geonode-db" not in scripts, name
    assert "nc -z -w 2 geonode-redis 6379" in " ".join(
        c["command"][2] for c in found["geonode-django-init"]["pod"]["initContainers"])
    policies = {p.inputs["metadata"]["name"] for p in run.of_type(NETWORK_POLICY)}
    assert "geonode-db" not in policies and "geonode-redis" in policies
    assert found["geonode-django-init"]["resource"].urn in found["geonode-django"]["resource"].dependencies


def test_on_docker_the_init_task_no_longer_depends_on_a_database_container():
    run = run_program("dev", {**GEONODE_ON["dev"], **EXTERNAL}, secrets=USER_PASSWORDS)
    found = workloads(run)
    init = found["geonode-django-init"]["resource"]
    assert [run.by_urn(urn).name for urn in init.dependencies if run.by_urn(urn).type == CONTAINER] == \
        ["geonode-redis"]
    assert {v.name for v in run.of_type("docker:index/volume:Volume")} == {
        "geonode-redis", "geonode-geoserver-data", "geonode-statics", "geonode-data", "geonode-backups"}


def test_an_existing_server_defaults_to_sslmode_prefer():
    run = run_program("staging", {"geostack:geonodeDatabaseHost": RDS}, secrets=USER_PASSWORDS)
    django = workloads(run)["geonode-django"]
    assert secret_value(run, django, "DATABASE_URL").endswith(f"@{RDS}:5432/geonode?sslmode=prefer")


@pytest.mark.parametrize("overrides, secrets, expected", [
    ({"geostack:geonodeDatabaseHost": RDS}, {},
     "geostack:geonodeDatabasePassword and geostack:geonodeGeodatabasePassword must be set with `pulumi config set "
     "--secret` when geostack:geonodeDatabaseHost names an existing server (the passwords its geonode and "
     "geonode_data users have), missing: geostack:geonodeDatabasePassword, geostack:geonodeGeodatabasePassword"),
    ({"geostack:geonodeDatabaseHost": RDS}, {"geostack:geonodeDatabasePassword": "x"},
     "geostack:geonodeDatabasePassword and geostack:geonodeGeodatabasePassword must be set with `pulumi config set "
     "--secret` when geostack:geonodeDatabaseHost names an existing server (the passwords its geonode and "
     "geonode_data users have), missing: geostack:geonodeGeodatabasePassword"),
    ({"geostack:geonodeDatabaseHost": RDS}, {**USER_PASSWORDS, "geostack:geonodePostgresPassword": "x"},
     "geostack:geonodePostgresPassword must be unset when geostack:geonodeDatabaseHost is set (geostack runs no "
     "PostgreSQL server to give it to), got a value"),
    ({"geostack:geonodeDatabasePort": "6543"}, {},
     "geostack:geonodeDatabasePort must stay 5432 unless geostack:geonodeDatabaseHost names an existing server "
     "(it applies to no other), got 6543"),
    ({"geostack:geonodeDatabaseSslMode": "require"}, {},
     "geostack:geonodeDatabaseSslMode must stay 'prefer' unless geostack:geonodeDatabaseHost names an existing "
     "server (it applies to no other), got 'require'"),
    ({"geostack:geonodeDatabaseHost": RDS, "geostack:geonodeDatabaseSslMode": "on"}, USER_PASSWORDS,
     "geostack:geonodeDatabaseSslMode must be one of disable, allow, prefer, require, verify-ca, verify-full, "
     "got 'on'"),
])
def test_bad_database_settings_name_the_keys(overrides, secrets, expected):
    assert run_expecting_error("prod", overrides, secrets) == expected


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_first_rollout_may_outlast_pulumi_kubernetes_ten_minutes(stack):
    # Migrations and collectstatic on a small cluster take longer than the provider's default wait.
    found = workloads(run_program(stack))
    for name in ("geonode-django-init", "geonode-django"):
        assert found[name]["resource"].custom_timeouts == {"create": "30m", "update": "30m"}, name
    for name in ("geonode-celery", "geonode-geoserver", "geonode-redis", "geonode"):
        assert found[name]["resource"].custom_timeouts == {}, f"{name} keeps the provider's default"
    longer = workloads(run_program(stack, {"geostack:geonodeInitTimeoutMinutes": "90"}))
    assert longer["geonode-django-init"]["resource"].type == JOB
    for name in ("geonode-django-init", "geonode-django"):
        assert longer[name]["resource"].custom_timeouts == {"create": "90m", "update": "90m"}, name


def test_on_docker_the_limit_is_how_long_djangos_healthcheck_may_take():
    found = workloads(run_program("dev", {**GEONODE_ON["dev"], "geostack:geonodeInitTimeoutMinutes": "45"}))
    assert found["geonode-django"]["inputs"]["waitTimeout"] == 45 * 60
    assert found["geonode-geoserver"]["inputs"]["waitTimeout"] == 300, "others keep the default"


def test_the_init_timeout_must_be_whole_minutes_in_range():
    message = run_expecting_error("staging", {"geostack:geonodeInitTimeoutMinutes": "0"})
    assert message == "geostack:geonodeInitTimeoutMinutes must be an integer from 1 to 1440, got '0'"
