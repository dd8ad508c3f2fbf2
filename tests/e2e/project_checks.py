"""What a user checks of a deployed two-project folder (tests/e2e/project_folders.py), on any target."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from offline.loopback import http_get, wait_until
from tests.e2e.project_folders import CITY_TITLE, SAMPLE_TITLE
from tests.e2e.wms_checks import RIVERSIDE_PARK, WMS_NS, assert_map_draws_features, feature_info_at_riverside_park, wms

PROJECTS = (("sample", SAMPLE_TITLE), ("city", CITY_TITLE))


def assert_project_answers(base: str, name: str, title: str, key_field: str = "") -> dict:
    """/ogc/<name> under `base`: its own title in GetCapabilities, a map, feature info and OGC API
    items. Returns the capabilities' response headers and the items document, for more checks.
    `key_field`: a database table's primary key, which answers carry besides the sample's fields."""
    def sample_fields(properties: list[dict]) -> list[dict]:
        return [{k: v for k, v in p.items() if not key_field or k != key_field} for p in properties]
    url = f"{base}/ogc/{name}"
    status, headers, body = wms(url, REQUEST="GetCapabilities")
    assert status == 200, (status, body[:300])
    assert ET.fromstring(body).findtext("wms:Service/wms:Title", namespaces=WMS_NS) == title
    assert_map_draws_features(url)
    assert sample_fields(feature_info_at_riverside_park(url)) == [RIVERSIDE_PARK]
    # OGC API Features as a client walks it: from the collections to the items link given for parks.
    status, _, body = http_get(f"{url}/wfs3/collections.json")
    assert status == 200
    assert b"MAP=" not in body.upper(), "links carry the project's location"
    parks = next(c for c in json.loads(body)["collections"] if c["id"] == "parks")
    items_url = next(link["href"] for link in parks["links"]
                     if link["rel"] == "items" and link["type"] == "application/geo+json")
    status, _, body = http_get(items_url + ("&" if "?" in items_url else "?") + "limit=10")
    assert status == 200, body[:300]
    items = json.loads(body)
    assert RIVERSIDE_PARK in sample_fields([feature["properties"] for feature in items["features"]])
    return {"capabilities": ET.fromstring(wms(url, REQUEST="GetCapabilities")[2]), "headers": headers, "items": items}


def first_answer(url: str) -> str:
    """The WMS title of the first GetCapabilities of `url` that answers 200, within 10 s."""
    answers = []
    wait_until(lambda: answers.append(wms(url, REQUEST="GetCapabilities")) or answers[-1][0] == 200, 10,
               f"{url} served")
    return ET.fromstring(answers[-1][2]).findtext("wms:Service/wms:Title", namespaces=WMS_NS)


def wait_for_title(url: str, title: str, timeout: float) -> None:
    """Until four answers in a row carry `title`: each worker keeps its own project cache, so one
    answer says nothing of the others."""
    titles: list[str] = []
    wait_until(lambda: titles.append(first_answer(url)) or titles[-4:] == [title] * 4, timeout,
               f"{title!r} served at {url}")


def assert_landing_page_lists_both(base: str) -> dict[str, str]:
    """The landing page under `base`, as JSON and HTML, lists both projects; returns their ids by title."""
    status, _, body = http_get(base + "/index.json")
    assert status == 200
    projects = {project["title"]: project["id"] for project in json.loads(body)["projects"]}
    assert sorted(projects) == [CITY_TITLE, SAMPLE_TITLE]
    status, headers, body = http_get(base + "/index.html")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert CITY_TITLE in body.decode() and SAMPLE_TITLE in body.decode()
    return projects


def logged_lines(log: Path, marker: str, count: int = 1) -> list[str]:
    """The lines of a loopback nginx's access log that hold `marker`, once there are `count`.

    nginx writes a request's line after it has sent the answer, so a client can read the answer
    first: wait for the lines rather than read the log once.
    """
    def lines() -> list[str]:
        return [line for line in log.read_text().splitlines() if marker in line]
    wait_until(lambda: len(lines()) >= count, 10, f"nginx's access log lines for {marker}")
    return lines()


def upstream_statuses(log: Path, marker: str) -> list[str]:
    """The upstream status nginx logged for each request whose line holds `marker` ("-": it never
    reached QGIS)."""
    return [re.search(r"upstream_status=(\S+)", line).group(1) for line in logged_lines(log, marker)]
