"""Projects on a claim (`geostack:qgisDataClaim`), through the nginx config the staging program
renders for one, in front of Debian's QGIS Server started as the image starts it, with the image's
geostack_projects plugin.

The program cannot look into a claim, so nginx passes /ogc/<name> on with the name alone (URL-safe
names only), and the plugin finds <name>.qgs or .qgz anywhere on the claim. A folder on this machine
stands in for the claim: at its root the sample and "town" (a .qgz with its own title), city/city.qgs
in a subfolder, two projects named "twin" in two folders, and projects where none is looked for:
a hidden folder and fonts/.
"""
from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
import zipfile

import pytest

from offline.loopback import declared_staging_stack, free_port, http_get, loopback_nginx_conf, nginx, qgis_server, \
    scratch_dir
from tests.e2e.project_checks import assert_project_answers, first_answer, logged_lines, upstream_statuses
from tests.e2e.project_folders import CITY_TITLE, SAMPLE_TITLE, make_two_project_folder
from tests.e2e.wms_checks import WMS_NS, wms

TOWN_TITLE = "Town of Tests"
TWIN_TITLES = ("Twin A", "Twin B")
UNSERVED_TITLE = "Never served"


def _retitled(folder, relative: str, title: str) -> None:
    sample = (folder / "sample.qgs").read_text()
    (folder / relative).parent.mkdir(parents=True, exist_ok=True)
    (folder / relative).write_text(sample.replace(f">{SAMPLE_TITLE}<", f">{title}<"))


@pytest.fixture(scope="module")
def claim():
    with scratch_dir("geostack-claim-") as folder:
        make_two_project_folder(folder)
        sample = (folder / "sample.qgs").read_text()
        with zipfile.ZipFile(folder / "town.qgz", "w") as town:
            town.writestr("town.qgs", sample.replace(f">{SAMPLE_TITLE}<", f">{TOWN_TITLE}<"))
        for relative, title in zip(("twin/a/twin.qgs", "twin/b/twin.qgs"), TWIN_TITLES):
            _retitled(folder, relative, title)
        for relative in (".archive/archived.qgs", "fonts/specimen.qgs"):
            _retitled(folder, relative, UNSERVED_TITLE)
        yield folder


@pytest.fixture(scope="module")
def stack(claim):
    declared = declared_staging_stack({"geostack:qgisDataClaim": "maps"})
    qgis_port, nginx_port = free_port(), free_port()
    with qgis_server(declared["env"], claim, qgis_port) as qgis, scratch_dir("geostack-nginx-") as scratch:
        conf = loopback_nginx_conf(declared["nginx_conf"], nginx_port, declared["upstream"], qgis_port, scratch,
                                   claim)
        with nginx(conf, nginx_port, scratch) as base_url:
            yield {"url": base_url, "log": scratch / "nginx.log", "qgis_log": qgis["log"]}


@pytest.mark.parametrize("name, title", [("sample", SAMPLE_TITLE), ("town", TOWN_TITLE), ("city", CITY_TITLE)])
def test_each_project_on_the_claim_answers_at_its_own_address(stack, name, title):
    assert_project_answers(stack["url"], name, title)


def test_a_project_put_on_the_claim_after_the_deployment_is_served_at_once_and_gone_once_removed(stack, claim):
    (claim / "harbour").mkdir()
    shutil.copy(claim / "city" / "city.qgs", claim / "harbour" / "harbour.qgs")
    try:
        # Each worker looks again for a name it does not know at most once a second (the plugin's
        # unit test times that with a fake clock), so until then another worker may still answer
        # 404; on a machine that may be busy, the project must come without a restart.
        assert first_answer(stack["url"] + "/ogc/harbour") == CITY_TITLE
    finally:
        shutil.rmtree(claim / "harbour")
    assert wms(stack["url"] + "/ogc/harbour", REQUEST="GetCapabilities")[0] == 404


@pytest.mark.parametrize("path", [
    "/ogc/sample.qgs?SERVICE=WMS&REQUEST=GetCapabilities",
    "/ogc/..%2Fsample?SERVICE=WMS&REQUEST=GetCapabilities",
    "/ogc/city%2Fcity?SERVICE=WMS&REQUEST=GetCapabilities",
    "/ogc/%2Fetc%2Fpasswd?SERVICE=WMS&REQUEST=GetCapabilities",
    "/ogc/.archive?SERVICE=WMS&REQUEST=GetCapabilities",
    "/ogc/sample?SERVICE=WMS&REQUEST=GetCapabilities&MAP=/etc/passwd",
    "/project/0123456789abcdef0123456789abcdeg?SERVICE=WMS&REQUEST=GetCapabilities",
    "/etc/passwd",
])
def test_a_path_or_file_name_is_404_and_never_reaches_qgis(stack, path):
    marker = f"probe-{free_port()}"
    assert http_get(stack["url"] + path, headers={"User-Agent": marker})[0] == 404
    assert upstream_statuses(stack["log"], marker) == ["-"], "nginx passed the request to QGIS"


@pytest.mark.parametrize("name", ["nothere", "archived", "specimen", "twin"])
def test_a_name_with_no_project_or_two_is_404_from_qgis_and_opens_nothing(stack, name):
    marker = f"probe-{free_port()}"
    status, _, body = http_get(f"{stack['url']}/ogc/{name}?SERVICE=WMS&REQUEST=GetCapabilities",
                               headers={"User-Agent": marker})
    assert status == 404
    assert upstream_statuses(stack["log"], marker) == ["404"], "the plugin did not answer"
    assert not any(title.encode() in body for title in (UNSERVED_TITLE, *TWIN_TITLES, SAMPLE_TITLE))


def test_two_projects_of_one_name_are_named_in_the_server_log(stack):
    assert http_get(f"{stack['url']}/ogc/twin?SERVICE=WMS&REQUEST=GetCapabilities")[0] == 404
    logged_lines(stack["qgis_log"], "twin/b/twin.qgs share its name")


def _landing_page_titles(url: str) -> dict[str, str]:
    status, _, body = http_get(url + "/index.html")
    assert status == 200
    return dict(re.findall(r'<tr class="project" id="([0-9a-f]{32})">\s*<td><strong>([^<]*)<', body.decode()))


def test_the_landing_page_lists_the_claims_folders_and_its_links_open_those_projects(stack):
    titles = _landing_page_titles(stack["url"])
    assert sorted(titles.values()) == sorted([SAMPLE_TITLE, TOWN_TITLE, CITY_TITLE, *TWIN_TITLES])
    for project_id, title in titles.items():
        status, _, body = http_get(f"{stack['url']}/project/{project_id}?SERVICE=WMS&REQUEST=GetCapabilities")
        assert status == 200
        assert ET.fromstring(body).findtext("wms:Service/wms:Title", namespaces=WMS_NS) == title


def test_a_project_added_to_a_listed_folder_is_listed_at_once(stack, claim):
    _retitled(claim, "city/suburb.qgs", "Suburb")
    try:
        assert "Suburb" in _landing_page_titles(stack["url"]).values()
    finally:
        (claim / "city" / "suburb.qgs").unlink()


def test_an_id_qgis_does_not_list_opens_no_project(stack):
    status, _, body = http_get(f"{stack['url']}/project/{'0' * 32}?SERVICE=WMS&REQUEST=GetCapabilities")
    assert status != 200 and SAMPLE_TITLE.encode() not in body and TOWN_TITLE.encode() not in body
