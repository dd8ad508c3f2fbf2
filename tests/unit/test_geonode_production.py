"""GeoNode's production options, run under mocks: settings module and extra settings, mail,
an external PostgreSQL server and how long the first rollout may take."""
from __future__ import annotations

import pytest

from offline.program_run import run_program
from tests.unit.test_config_errors import run_expecting_error
from tests.unit.test_geonode import DJANGO_LIKE, GEONODE_ON, workloads

UPSTREAM = {"geostack:geonodeDjangoImage": "geonode/geonode:5.1.1"}
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
