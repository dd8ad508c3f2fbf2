"""The `pulumi new` template (templates/geostack) stays in step with the package: it installs this
release, asks only for real keys with defaults the program accepts, ships the sample project as
data/ has it, and its program is geostack's. tests/kubernetes/test_pulumi_new_template.py runs
`pulumi new` with it for real."""
from __future__ import annotations

import filecmp

import yaml

import pulumi_geostack
from offline.program_run import PROJECT_ROOT, run_program
from pulumi_geostack.config_keys import SETTINGS

TEMPLATE = PROJECT_ROOT / "templates" / "geostack"


def test_the_template_asks_for_real_keys_and_the_target_first_in_its_descriptions():
    template = yaml.safe_load((TEMPLATE / "Pulumi.yaml").read_text())
    assert (template["name"], template["description"]) == ("${PROJECT}", "${DESCRIPTION}")
    asked = template["template"]["config"]
    assert set(asked) <= {f"geostack:{setting.key}" for setting in SETTINGS}
    assert asked["geostack:target"]["default"] == "docker"
    for key, entry in asked.items():
        target_only = entry["description"].split(":")[0]
        if target_only.endswith(" only"):  # a key one target needs: empty, so unset, elsewhere
            assert "default" not in entry, key


def test_the_templates_program_runs_with_the_prompts_defaults():
    template = yaml.safe_load((TEMPLATE / "Pulumi.yaml").read_text())
    defaults = {key: str(entry["default"]) for key, entry in template["template"]["config"].items()
                if "default" in entry}
    run = run_program("dev", config=defaults, project_root=TEMPLATE)
    assert run.outputs["url"] == "http://localhost:8080"
    assert run.outputs["projectUrls"] == {"sample": "http://localhost:8080/ogc/sample"}
    assert run.outputs["geostackVersion"] == pulumi_geostack.__version__


def test_the_template_ships_the_sample_project_as_data_has_it():
    shipped = sorted(path.name for path in (TEMPLATE / "data").iterdir())
    assert shipped == sorted(path.name for path in (PROJECT_ROOT / "data").iterdir())
    _, mismatch, errors = filecmp.cmpfiles(PROJECT_ROOT / "data", TEMPLATE / "data", shipped, shallow=False)
    assert mismatch == errors == []
