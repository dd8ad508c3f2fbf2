"""The GeoServer data-directory seed script, run for real with sh on temp directories."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pulumi_geostack.geonode.services import SEED_MARKER, seed_script


@pytest.fixture
def dirs(tmp_path):
    source, target = tmp_path / "image-data", tmp_path / "volume"
    (source / "workspaces" / "geonode").mkdir(parents=True)
    (source / "global.xml").write_text("<global>factory</global>")
    (source / "workspaces" / "geonode" / "workspace.xml").write_text("<workspace>geonode</workspace>")
    target.mkdir()
    return source, target


def seed(source: Path, target: Path) -> str:
    result = subprocess.run(["sh", "-c", seed_script(str(source), str(target))], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_an_empty_volume_gets_the_initial_data_directory(dirs):
    source, target = dirs
    seed(source, target)
    assert (target / "global.xml").read_text() == "<global>factory</global>"
    assert (target / "workspaces" / "geonode" / "workspace.xml").exists()
    assert (target / SEED_MARKER).exists()


def test_rerunning_never_overwrites_the_running_catalogue(dirs):
    source, target = dirs
    seed(source, target)
    (target / "global.xml").write_text("<global>edited in GeoServer</global>")
    (source / "global.xml").write_text("<global>newer image</global>")
    (source / "new.xml").write_text("<new/>")
    assert "already initialised" in seed(source, target)
    assert (target / "global.xml").read_text() == "<global>edited in GeoServer</global>"
    assert not (target / "new.xml").exists()


def test_an_existing_catalogue_without_marker_is_left_alone(dirs):
    source, target = dirs
    (target / "global.xml").write_text("<global>restored from backup</global>")
    assert "leaving the existing catalogue alone" in seed(source, target)
    assert (target / "global.xml").read_text() == "<global>restored from backup</global>"
    assert not (target / "workspaces").exists()
    assert (target / SEED_MARKER).exists()


def test_seed_script_passes_shellcheck(tmp_path):
    script = tmp_path / "seed.sh"
    script.write_text("#!/bin/sh\n" + seed_script("/geoserver_data/data", "/mnt/geoserver-data"))
    shellcheck = str(Path(sys.executable).with_name("shellcheck"))
    result = subprocess.run([shellcheck, "--shell=sh", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
