"""The image's geostack_projects plugin finds a claim's projects by the program's rules for a
project folder, and looks again when a name finds no file (docker/qgis-server/server-plugins)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from pulumi_geostack.qgis_projects import find_projects
from offline.program_run import PROJECT_ROOT

_SOURCE = PROJECT_ROOT / "docker" / "qgis-server" / "server-plugins" / "geostack_projects" / "index.py"
_spec = importlib.util.spec_from_file_location("geostack_projects_index", _SOURCE)
index = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(index)  # the module alone: the package's __init__ needs QGIS

# Every case the rules decide: subfolders, case of the suffix, hidden files and folders, backups,
# the root's fonts/ and plugins/ (a subfolder of that name is an ordinary one), names that are
# not URL-safe, and two files of one name.
TREE = (
    "sample.qgs", "town.qgz", "city/city.qgs", "city/parks.gpkg", "deep/er/still/UPPER.QGZ",
    ".hidden.qgs", ".archive/archived.qgs", "old.qgs~", "fonts/specimen.qgs", "plugins/p/demo.qgs",
    "maps/fonts/lettering.qgs", "my map.qgs", "twin/a/twin.qgs", "twin/b/twin.qgz",
)


@pytest.fixture
def claim(tmp_path: Path) -> Path:
    for relative in TREE:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("<qgis/>")
    return tmp_path


def test_the_plugin_serves_exactly_the_projects_the_program_would(claim):
    by_name, _ = index.scan(str(claim))
    served = {name: str(Path(paths[0]).relative_to(claim)) for name, paths in by_name.items() if len(paths) == 1}
    projects, problems = find_projects(claim)
    assert served == {p.name: p.relative_path for p in projects}
    assert served == {"sample": "sample.qgs", "town": "town.qgz", "city": "city/city.qgs",
                      "UPPER": "deep/er/still/UPPER.QGZ", "lettering": "maps/fonts/lettering.qgs"}
    # What the program refuses to deploy, the plugin refuses to serve.
    assert sorted(by_name["twin"]) == [str(claim / "twin/a/twin.qgs"), str(claim / "twin/b/twin.qgz")]
    assert "my map" not in by_name
    assert len(problems) == 2 and any("'my map.qgs'" in p for p in problems) and any("/ogc/twin" in p for p in problems)


def test_the_landing_page_gets_every_folder_that_holds_a_project(claim):
    _, folders = index.scan(str(claim) + "/")
    assert folders == sorted(str(claim / f) for f in ("", "city", "deep/er/still", "maps/fonts", "twin/a", "twin/b"))


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_new_project_is_found_once_a_lookup_misses_and_a_removed_one_is_gone_at_once(claim):
    clock = Clock()
    projects = [index.ProjectIndex.of_folder(str(claim), max_age=30, miss_age=1, clock=clock)]
    assert index.lookup(projects, "sample") == [str(claim / "sample.qgs")]
    (claim / "harbour").mkdir()
    (claim / "harbour" / "harbour.qgs").write_text("<qgis/>")
    # Unknown names scan at most once a second: a flood of them cannot keep a worker walking the tree.
    assert index.lookup(projects, "harbour") == []
    clock.now += 1.5
    assert index.lookup(projects, "harbour") == [str(claim / "harbour" / "harbour.qgs")]
    (claim / "harbour" / "harbour.qgs").unlink()
    assert index.lookup(projects, "harbour") == []


def test_a_second_project_of_a_name_is_noticed_within_max_age(claim):
    clock = Clock()
    projects = [index.ProjectIndex.of_folder(str(claim), max_age=30, miss_age=1, clock=clock)]
    assert index.lookup(projects, "city") == [str(claim / "city" / "city.qgs")]
    (claim / "town").mkdir()
    (claim / "town" / "city.qgz").write_text("<qgis/>")
    clock.now += 10
    assert index.lookup(projects, "city") == [str(claim / "city" / "city.qgs")], "a found project is kept for max_age"
    clock.now += 25
    assert len(index.lookup(projects, "city")) == 2


def test_a_name_in_two_indexes_is_refused_and_a_hit_does_not_list_the_others_again(claim):
    clock = Clock()
    listings = []

    def saved_projects():
        listings.append(clock.now)
        return {"city": ["postgresql:///?service=geostack&schema=maps&project=city"],
                "harbour": ["postgresql:///?service=geostack&schema=maps&project=harbour"]}
    projects = [index.ProjectIndex.of_folder(str(claim), clock=clock), index.ProjectIndex(saved_projects, clock=clock)]
    assert index.lookup(projects, "harbour") == ["postgresql:///?service=geostack&schema=maps&project=harbour"]
    assert len(index.lookup(projects, "city")) == 2, "a file and a saved project of one name"
    for _ in range(5):
        clock.now += 2
        index.lookup(projects, "sample")
    assert listings == [100.0], "a name found once needs no new listing before max_age"


def test_a_listing_made_at_start_is_used_until_a_lookup_misses(claim):
    clock = Clock()
    by_name, _ = index.scan(str(claim))  # what the plugin scans at start for the landing page
    projects = [index.ProjectIndex.of_folder(str(claim), clock=clock, listed=by_name)]
    (claim / "sample.qgs").rename(claim / "renamed.qgs")
    (claim / "town.qgz").unlink()
    assert index.lookup(projects, "city") == [str(claim / "city" / "city.qgs")]
    assert index.lookup(projects, "town") == [], "a listed file that is gone is not served"
    assert index.lookup(projects, "renamed") == [], "no new listing within miss_age of the start"
    clock.now += 1.5
    assert index.lookup(projects, "renamed") == [str(claim / "renamed.qgs")]
