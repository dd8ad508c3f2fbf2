"""Every Docker value the program declares is already in the form the provider stores after
`up`, so a preview right after `up` proposes nothing (the real provider re-prints durations the
way Go does: `60s` comes back as `1m0s`, a diff on every preview)."""
from __future__ import annotations

import pytest

from offline.program_run import run_program
from tests.e2e.docker_readback import (
    go_duration_string,
    parse_go_duration,
    perpetual_diffs,
    provider_state,
    stored_healthcheck,
)

CONTAINER = "docker:index/container:Container"
SECOND = 10**9


@pytest.mark.parametrize("ns, printed", [
    (0, "0s"), (SECOND, "1s"), (60 * SECOND, "1m0s"), (90 * SECOND, "1m30s"), (3600 * SECOND, "1h0m0s"),
    (3 * SECOND // 2, "1.5s"), (500 * 10**6, "500ms"), (1000, "1µs"), (7, "7ns"),
    # the examples in Go's own documentation of Duration.String
    (3600 * SECOND + 15 * 60 * SECOND + 30 * SECOND + 918273645, "1h15m30.918273645s"),
    (72 * 3600 * SECOND + 3 * 60 * SECOND + SECOND // 2, "72h3m0.5s"),
])
def test_durations_print_as_go_prints_them(ns, printed):
    assert go_duration_string(ns) == printed
    assert parse_go_duration(printed) == ns


@pytest.mark.parametrize("overrides", [{}, {"geostack:geonodeEnabled": "true"}], ids=["qgis", "with-geonode"])
def test_every_declared_healthcheck_is_in_the_stored_form(overrides):
    containers = run_program("dev", overrides).of_type(CONTAINER)
    checks = {c.name: c.inputs["healthcheck"] for c in containers if c.inputs.get("healthcheck")}
    assert len(checks) >= (8 if overrides else 2)  # every long-running container has one
    for name, declared in checks.items():
        assert stored_healthcheck(declared) == {"startInterval": "0s", **declared}, name


def test_a_duration_in_seconds_beyond_a_minute_would_be_caught():
    """The check above can fail: the spelling the first GeoNode stack had is not the stored one."""
    declared = {"tests": ["CMD", "true"], "interval": "60s", "timeout": "10s", "startPeriod": "60s", "retries": 3}
    stored = stored_healthcheck(declared)
    assert stored["interval"] == stored["startPeriod"] == "1m0s"
    inspect = {"Name": "/c", "Config": {"Image": "i", "Healthcheck": {
        "Test": ["CMD", "true"], "Interval": 60 * SECOND, "Timeout": 10 * SECOND, "StartPeriod": 60 * SECOND,
        "Retries": 3}}, "HostConfig": {"RestartPolicy": {"Name": "unless-stopped"}}}
    diffs = perpetual_diffs({"name": "c", "image": "i", "restart": "unless-stopped", "healthcheck": declared},
                            provider_state(inspect))
    assert set(diffs) == {"healthcheck"}
