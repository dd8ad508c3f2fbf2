"""The program loads only the provider SDKs its stack needs (pulumi_aws alone is ~270 MB)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from offline.program_run import PROJECT_ROOT

PROBE = """
import json, sys
from offline.program_run import run_program
run_program({stack!r}, {overrides!r})
sdks = {{name.split('.')[0] for name in sys.modules if name.startswith('pulumi_')}} - {{'pulumi_geostack'}}
print(json.dumps(sorted(sdks)))
"""


def sdks_loaded(stack: str, overrides: dict) -> set[str]:
    result = subprocess.run([sys.executable, "-c", PROBE.format(stack=stack, overrides=overrides)],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("stack, overrides, expected", [
    ("dev", {}, {"pulumi_docker"}),
    ("dev", {"geostack:geonodeEnabled": "true"}, {"pulumi_docker", "pulumi_random"}),
    ("staging", {"geostack:geonodeEnabled": "false"}, {"pulumi_docker", "pulumi_kubernetes"}),
    ("prod", {}, {"pulumi_docker", "pulumi_kubernetes", "pulumi_aws", "pulumi_random"}),
])
def test_only_the_needed_sdks_are_imported(stack, overrides, expected):
    assert sdks_loaded(stack, overrides) == expected
