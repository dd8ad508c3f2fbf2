"""Pulumi.yaml and the docs' config reference are generated from the key table; they must not drift."""
from __future__ import annotations

import re

import yaml

from pulumi_geostack.config import SETTINGS
from scripts.config_reference import REFERENCE_PAGE, markdown_table, pulumi_yaml_config
from offline.program_run import PROJECT_ROOT, STACKS


def test_pulumi_yaml_declares_every_key_with_type_description_and_default():
    project = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "geostack"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == "venv"
    declared = project["config"]
    # Credentials stay undeclared: the CLI would require a declared key that has no default.
    assert list(declared) == [s.key for s in SETTINGS if not s.secret]
    for key in declared:
        # A dotted key is a property path to the CLI (field of an object), never a flat setting.
        assert re.fullmatch(r"[a-z][A-Za-z0-9]*", key), key
    for setting in SETTINGS:
        if setting.secret:
            assert f"pulumi config set --secret geostack:{setting.key} " in pulumi_yaml_config()
            continue
        entry = declared[setting.key]
        assert entry["type"] == setting.kind.type
        assert entry["description"] == setting.description
        assert entry["default"] == setting.default
    assert yaml.safe_load(pulumi_yaml_config())["config"] == declared
    assert (PROJECT_ROOT / "Pulumi.yaml").read_text().endswith(pulumi_yaml_config())


def test_stack_files_set_only_known_keys_and_the_right_targets():
    known = {f"geostack:{s.key}" for s in SETTINGS}
    targets = {}
    for stack in STACKS:
        config = yaml.safe_load((PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
        for key in config:
            assert key in known or not key.startswith("geostack:"), f"Pulumi.{stack}.yaml: unknown {key}"
        targets[stack] = config["geostack:target"]
    assert targets == {"dev": "docker", "staging": "microk8s", "prod": "eks"}


def test_the_config_reference_page_holds_the_generated_table():
    page = REFERENCE_PAGE.read_text()
    match = re.search(r"<!-- config-reference:start -->\n(.*?)<!-- config-reference:end -->", page, re.S)
    assert match, "docs/configuration.md lacks the config reference markers"
    assert match.group(1) == markdown_table(), "regenerate with: python scripts/config_reference.py markdown"


def test_the_benchmark_page_publishes_every_run_as_measured():
    """docs/benchmark/README.md holds each docs/benchmark/<run>/results.md verbatim, so a re-run
    that is not copied into the page (or a hand edit of a figure) fails."""
    page = (PROJECT_ROOT / "docs" / "benchmark" / "README.md").read_text()
    runs = sorted(path.parent.name for path in (PROJECT_ROOT / "docs" / "benchmark").glob("*/results.md"))
    assert runs == ["heavy", "heavy-gzip", "heavy-gzip-link", "quick"]
    for run in runs:
        assert (PROJECT_ROOT / "docs" / "benchmark" / run / "results.md").read_text() in page, run
