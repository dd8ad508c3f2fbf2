"""Projects on a claim (`geostack:qgisDataClaim`), through the nginx config the staging program
renders for one, in front of Debian's QGIS Server started as the image starts it.

The program cannot look into a claim, so nginx (which mounts it read-only, like QGIS) looks for
`<name>.qgs` or `<name>.qgz` at the claim's root on each request. A folder on this machine stands
in for the claim: at its root the sample and "town" (a .qgz with its own title), and city/city.qgs
in a subfolder, which is not served at /ogc/ (QGIS's landing page does not list subfolders either).
"""
from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
import zipfile

import pytest

from offline.loopback import declared_staging_stack, free_port, http_get, loopback_nginx_conf, nginx, qgis_server, \
    scratch_dir
from tests.e2e.project_checks import assert_project_answers, upstream_statuses
from tests.e2e.project_folders import CITY_TITLE, SAMPLE_TITLE, make_two_project_folder
from tests.e2e.wms_checks import WMS_NS, wms

TOWN_TITLE = "Town of Tests"


@pytest.fixture(scope="module")
def claim():
    with scratch_dir("geostack-claim-") as folder:
        make_two_project_folder(folder)
        sample = (folder / "sample.qgs").read_text()
        with zipfile.ZipFile(folder / "town.qgz", "w") as town:
            town.writestr("town.qgs", sample.replace(f">{SAMPLE_TITLE}<", f">{TOWN_TITLE}<"))
        yield folder


@pytest.fixture(scope="module")
def stack(claim):
    declared = declared_staging_stack({"geostack:qgisDataClaim": "maps"})
    qgis_port, nginx_port = free_port(), free_port()
    with qgis_server(declared["env"], claim, qgis_port), scratch_dir("geostack-nginx-") as scratch:
        conf = loopback_nginx_conf(declared["nginx_conf"], nginx_port, declared["upstream"], qgis_port, scratch,
                                   claim)
        with nginx(conf, nginx_port, scratch) as base_url:
            yield {"url": base_url, "log": scratch / "nginx.log"}


@pytest.mark.parametrize("name, title", [("sample", SAMPLE_TITLE), ("town", TOWN_TITLE)])
def test_each_project_at_the_claims_root_answers_at_its_own_address(stack, name, title):
    assert_project_answers(stack["url"], name, title)


def test_a_project_put_on_the_claim_after_the_deployment_is_served_at_once(stack, claim):
    shutil.copy(claim / "city" / "city.qgs", claim / "harbour.qgs")
    try:
        status, _, body = wms(stack["url"] + "/ogc/harbour", REQUEST="GetCapabilities")
        assert status == 200
        assert ET.fromstring(body).findtext("wms:Service/wms:Title", namespaces=WMS_NS) == CITY_TITLE
    finally:
        (claim / "harbour.qgs").unlink()
    # Gone from the claim, it is served no more: QGIS answers an error until nginx, which keeps
    # what it found open for up to a minute (open_file_cache), answers 404 itself.
    assert wms(stack["url"] + "/ogc/harbour", REQUEST="GetCapabilities")[0] in (404, 500)


@pytest.mark.parametrize("path", [
    "/ogc/city?SERVICE=WMS&REQUEST=GetCapabilities",  # in a subfolder
    "/ogc/nothere?SERVICE=WMS&REQUEST=GetCapabilities",
    "/ogc/sample.qgs?SERVICE=WMS&REQUEST=GetCapabilities",
    "/ogc/..%2Fsample?SERVICE=WMS&REQUEST=GetCapabilities",
    "/ogc/city%2Fcity?SERVICE=WMS&REQUEST=GetCapabilities",
    "/ogc/%2Fetc%2Fpasswd?SERVICE=WMS&REQUEST=GetCapabilities",
    "/ogc/sample?SERVICE=WMS&REQUEST=GetCapabilities&MAP=/etc/passwd",
    "/project/0123456789abcdef0123456789abcdeg?SERVICE=WMS&REQUEST=GetCapabilities",
    "/etc/passwd",
])
def test_a_name_or_file_off_the_claims_root_is_404_and_never_reaches_qgis(stack, path):
    marker = f"probe-{free_port()}"
    assert http_get(stack["url"] + path, headers={"User-Agent": marker})[0] == 404
    assert upstream_statuses(stack["log"], marker) == ["-"], "nginx passed the request to QGIS"


def test_the_landing_page_lists_the_claims_root_and_its_links_open_those_projects(stack):
    status, _, body = http_get(stack["url"] + "/index.html")
    assert status == 200
    page = body.decode()
    titles = re.findall(r'<tr class="project" id="[0-9a-f]{32}">\s*<td><strong>([^<]*)<', page)
    assert sorted(titles) == sorted([SAMPLE_TITLE, TOWN_TITLE])
    town_id = re.search(rf'<tr class="project" id="([0-9a-f]{{32}})">\s*<td><strong>{TOWN_TITLE}', page).group(1)
    status, _, body = http_get(f"{stack['url']}/project/{town_id}?SERVICE=WMS&REQUEST=GetCapabilities")
    assert status == 200
    assert ET.fromstring(body).findtext("wms:Service/wms:Title", namespaces=WMS_NS) == TOWN_TITLE


def test_an_id_qgis_does_not_list_opens_no_project(stack):
    status, _, body = http_get(f"{stack['url']}/project/{'0' * 32}?SERVICE=WMS&REQUEST=GetCapabilities")
    assert status != 200 and SAMPLE_TITLE.encode() not in body and TOWN_TITLE.encode() not in body
