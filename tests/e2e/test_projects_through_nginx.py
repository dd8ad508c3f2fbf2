"""Every project of a folder at /ogc/<name>, and the landing page, through the nginx config the
program renders, in front of Debian's QGIS Server started as the image starts it.

The folder holds the sample at its root and a second project, "city", in a subfolder with
its own title, so each answer can be told apart. Requests that name a file (MAP) or a project
outside the folder must get 404 from nginx and never reach QGIS: nginx's access log shows, per
request, whether an upstream answered.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from offline.loopback import (declared_dev_stack, free_port, http_get, loopback_nginx_conf, nginx, qgis_server,
                              scratch_dir)
from tests.e2e.project_checks import upstream_statuses
from tests.e2e.project_folders import CITY_TITLE, make_two_project_folder
from tests.e2e.wms_checks import (RIVERSIDE_PARK, WMS_NS, assert_map_draws_features,
                                  feature_info_at_riverside_park, get_map, wms)

@pytest.fixture(scope="module")
def folder():
    with scratch_dir("geostack-projects-") as folder:
        yield make_two_project_folder(folder)


@pytest.fixture(scope="module")
def stack(folder):
    declared = declared_dev_stack({"geostack:qgisProjectDir": str(folder)})
    qgis_port, nginx_port = free_port(), free_port()
    with qgis_server(declared["env"], folder, qgis_port) as qgis, scratch_dir("geostack-nginx-") as scratch:
        conf = loopback_nginx_conf(declared["nginx_conf"], nginx_port, declared["upstream"], qgis_port, scratch,
                                   folder)
        with nginx(conf, nginx_port, scratch) as base_url:
            yield {"url": base_url, "qgis": qgis, "log": scratch / "nginx.log"}


def test_each_project_answers_at_its_own_address(stack):
    for name, title in (("sample", "geostack sample"), ("city", CITY_TITLE)):
        url = f"{stack['url']}/ogc/{name}"
        status, _, body = wms(url, REQUEST="GetCapabilities")
        assert status == 200
        root = ET.fromstring(body)
        assert root.findtext("wms:Service/wms:Title", namespaces=WMS_NS) == title
        assert {"parks", "sites"} <= {el.text for el in root.iterfind(".//wms:Layer/wms:Name", WMS_NS)}
        assert_map_draws_features(url)
        assert feature_info_at_riverside_park(url) == [RIVERSIDE_PARK]


def test_the_default_project_stays_at_the_configured_path(stack):
    status, _, body = wms(stack["url"] + "/qgis-server", REQUEST="GetCapabilities")
    assert status == 200
    assert ET.fromstring(body).findtext("wms:Service/wms:Title", namespaces=WMS_NS) == "geostack sample"


@pytest.mark.parametrize("headers, public", [
    ({"Host": "localhost:8080"}, "http://localhost:8080"),
    ({"Host": "localhost:8080", "X-Forwarded-Host": "maps.example.org", "X-Forwarded-Proto": "https"},
     "https://maps.example.org"),
])
def test_capabilities_and_ogc_api_links_carry_the_public_address(stack, headers, public):
    status, _, body = wms(stack["url"] + "/ogc/city", REQUEST="GetCapabilities", headers=headers)
    assert status == 200
    hrefs = {el.get(f"{{{WMS_NS['xlink']}}}href").split("?")[0]
             for el in ET.fromstring(body).iterfind(".//wms:OnlineResource", WMS_NS)}
    assert hrefs == {f"{public}/ogc/city"}
    status, _, body = http_get(stack["url"] + "/ogc/city/wfs3/collections.json", headers=headers)
    assert status == 200
    links = [link["href"] for collection in json.loads(body)["collections"] for link in collection["links"]]
    assert links and all(link.startswith(f"{public}/ogc/city/wfs3/collections/") for link in links), links[:3]


def test_ogc_api_features_lists_collections_and_returns_items(stack):
    status, _, body = http_get(stack["url"] + "/ogc/city/wfs3/collections.json")
    assert status == 200
    assert {c["id"] for c in json.loads(body)["collections"]} == {"parks", "sites"}
    status, headers, body = http_get(stack["url"] + "/ogc/city/wfs3/collections/parks/items.json?limit=10")
    assert status == 200
    assert headers["Content-Type"].startswith("application/geo+json")
    features = json.loads(body)["features"]
    assert RIVERSIDE_PARK in [f["properties"] for f in features]
    assert all(f["geometry"]["type"] == "Polygon" for f in features)


def test_the_landing_page_lists_every_project_and_leads_to_its_address(stack):
    status, _, body = http_get(stack["url"] + "/index.json")
    assert status == 200
    assert sorted(p["title"] for p in json.loads(body)["projects"]) == [CITY_TITLE, "geostack sample"]
    status, headers, body = http_get(stack["url"] + "/index.html")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    page = body.decode()
    assert CITY_TITLE in page and "geostack sample" in page
    city_id = re.search(rf'<tr class="project" id="([0-9a-f]{{32}})">\s*<td><strong>{CITY_TITLE}', page).group(1)
    # The page's WMS link for the city leads to /ogc/city.
    assert f'href="/project/{city_id}?SERVICE=WMS&amp;REQUEST=GetCapabilities"' in page
    status, location = _redirect(f"{stack['url']}/project/{city_id}?SERVICE=WMS&REQUEST=GetCapabilities")
    assert (status, location) == (301, "/ogc/city?SERVICE=WMS&REQUEST=GetCapabilities")


def _redirect(url: str) -> tuple[int, str]:
    """Status and Location of a GET, without following the redirect."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        return response.status, response.getheader("Location")
    finally:
        connection.close()


@pytest.mark.parametrize("path", [
    "/ogc/nothere?SERVICE=WMS&REQUEST=GetCapabilities",
    "/ogc/city.qgs?SERVICE=WMS&REQUEST=GetCapabilities",
    "/ogc/..%2Fsample?SERVICE=WMS&REQUEST=GetCapabilities",
    "/ogc/%2Fetc%2Fpasswd?SERVICE=WMS&REQUEST=GetCapabilities",
    "/ogc/city/../../etc/passwd",
    "/etc/passwd",
    "/project/00000000000000000000000000000000?SERVICE=WMS&REQUEST=GetCapabilities",
    "/ogc/city?SERVICE=WMS&REQUEST=GetCapabilities&MAP=/etc/passwd",
    "/ogc/city?SERVICE=WMS&REQUEST=GetCapabilities&map=%2Fetc%2Fpasswd",
    "/ogc/city?SERVICE=WMS&REQUEST=GetCapabilities&M%41P=sample.qgs",
    "/ogc/city?SERVICE=WMS&REQUEST=GetCapabilities&%6d%61%70=sample.qgs",
    "/qgis-server?MAP=/tmp/other.qgs&SERVICE=WMS&REQUEST=GetCapabilities",
    "/?MAP=/tmp/other.qgs",
])
def test_a_file_or_name_outside_the_folder_is_404_and_never_reaches_qgis(stack, path):
    marker = f"probe-{free_port()}"
    status, _, _ = http_get(stack["url"] + path, headers={"User-Agent": marker})
    assert status == 404
    assert upstream_statuses(stack["log"], marker) == ["-"], "nginx passed the request to QGIS"


def test_the_probe_sees_requests_that_do_reach_qgis(stack):
    """The check above would pass if nothing were logged: a request QGIS answers is logged with its status."""
    marker = f"probe-{free_port()}"
    status, _, _ = http_get(stack["url"] + "/ogc/city?SERVICE=WMS&REQUEST=GetCapabilities",
                            headers={"User-Agent": marker})
    assert status == 200
    assert upstream_statuses(stack["log"], marker) == ["200"]


def test_each_project_has_its_own_cache_entries(stack):
    for name in ("sample", "city"):
        url = f"{stack['url']}/ogc/{name}"
        statuses = [get_map(url, size=96)[1]["X-Cache-Status"] for _ in range(2)]
        assert statuses == ["MISS", "HIT"], f"/ogc/{name}: {statuses}"


def test_with_min_uses_2_a_map_is_cached_from_its_second_request(folder):
    declared = declared_dev_stack({"geostack:qgisProjectDir": str(folder), "geostack:nginxCacheMinUses": "2"})
    qgis_port, nginx_port = free_port(), free_port()
    with qgis_server(declared["env"], folder, qgis_port), scratch_dir("geostack-nginx-") as scratch:
        conf = loopback_nginx_conf(declared["nginx_conf"], nginx_port, declared["upstream"], qgis_port, scratch,
                                   folder)
        with nginx(conf, nginx_port, scratch) as base_url:
            statuses = [get_map(base_url + "/ogc/city", size=97)[1]["X-Cache-Status"] for _ in range(3)]
    assert statuses == ["MISS", "MISS", "HIT"]
