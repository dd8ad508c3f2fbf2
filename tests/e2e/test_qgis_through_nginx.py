"""End to end on loopback: QGIS Server started as the image starts it, behind the nginx config
NginxProxy renders, answering real WMS requests with the sample project."""
from __future__ import annotations

import gzip
import io
import json
import math
import os
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from tests.e2e.local_stack import (free_port, http_get, loopback_nginx_conf, nginx, qgis_server, qgis_workers,
                                    scratch_dir)
from tests.program import PROJECT_ROOT, run_program

WMS_NS = {"wms": "http://www.opengis.net/wms", "xlink": "http://www.w3.org/1999/xlink"}
PARK_GREEN = (46, 139, 87)
SITE_RED = (200, 30, 30)


def mercator(lon: float, lat: float) -> tuple[float, float]:
    radius = 6378137.0
    return (math.radians(lon) * radius,
            math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * radius)


# The sample's Riverside Park spans lon 10.00-10.04, lat 50.00-50.03 (scripts/make_sample_data.py).
BBOX = (*mercator(9.995, 49.995), *mercator(10.095, 50.085))


@pytest.fixture(scope="module")
def declared():
    """What the dev stack declares for the two containers."""
    run = run_program("dev")
    qgis = run.one("docker:index/container:Container", "qgis-server")
    proxy = run.one("docker:index/container:Container", "qgis-nginx")
    env = dict(item.split("=", 1) for item in qgis.inputs["envs"])
    data_dir = next(v["hostPath"] for v in qgis.inputs["volumes"] if v["containerPath"] == "/data")
    upstream = f'{qgis.inputs["networksAdvanced"][0]["aliases"][0]}:{env["QGIS_FCGI_PORT"]}'
    return {"env": env, "data_dir": data_dir, "nginx_conf": proxy.inputs["uploads"][0]["content"],
            "upstream": upstream}


@pytest.fixture(scope="module")
def stack(declared):
    from pathlib import Path

    qgis_port, nginx_port = free_port(), free_port()
    with qgis_server(declared["env"], Path(declared["data_dir"]), qgis_port) as qgis, \
            scratch_dir("geostack-nginx-") as scratch:
        conf = loopback_nginx_conf(declared["nginx_conf"], nginx_port, declared["upstream"], qgis_port, scratch)
        with nginx(conf, nginx_port, scratch) as base_url:
            yield {"url": base_url + "/qgis-server", "qgis": qgis}


def wms(stack, headers=None, **params):
    query = "&".join(f"{key}={value}" for key, value in {"SERVICE": "WMS", "VERSION": "1.3.0", **params}.items())
    return http_get(f"{stack['url']}?{query}", headers)


def test_declared_data_dir_is_the_sample():
    assert (PROJECT_ROOT / "data" / "sample.qgs").is_file()


def test_get_capabilities_lists_the_sample_layers(stack):
    status, headers, body = wms(stack, REQUEST="GetCapabilities")
    assert status == 200, body[:500]
    assert headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(body)
    names = {el.text for el in root.iterfind(".//wms:Layer/wms:Name", WMS_NS)}
    assert {"parks", "sites"} <= names
    assert root.findtext("wms:Service/wms:Title", namespaces=WMS_NS) == "geostack sample"


def test_get_map_draws_the_features(stack):
    status, headers, body = wms(stack, REQUEST="GetMap", LAYERS="parks,sites", STYLES="", CRS="EPSG:3857",
                                BBOX=",".join(f"{v:.2f}" for v in BBOX), WIDTH=256, HEIGHT=256,
                                FORMAT="image/png", TRANSPARENT="true")
    assert status == 200 and headers["Content-Type"] == "image/png", body[:500]
    image = Image.open(io.BytesIO(body)).convert("RGBA")
    assert image.size == (256, 256)
    pixels = [image.getpixel((x, y)) for x in range(256) for y in range(256)]

    def near(colour, pixel):
        return pixel[3] > 200 and all(abs(a - b) < 25 for a, b in zip(colour, pixel[:3]))

    green = sum(near(PARK_GREEN, p) for p in pixels)
    red = sum(near(SITE_RED, p) for p in pixels)
    transparent = sum(p[3] == 0 for p in pixels)
    assert green > 0.10 * len(pixels), f"parks cover only {green} pixels"
    assert red > 10, "site markers are missing"
    assert transparent > 0.20 * len(pixels), "the background between features should stay transparent"


def test_get_feature_info_returns_attributes(stack):
    # The pixel at the centre of Riverside Park.
    x, y = mercator(10.02, 50.015)
    i = round((x - BBOX[0]) / (BBOX[2] - BBOX[0]) * 256)
    j = round((BBOX[3] - y) / (BBOX[3] - BBOX[1]) * 256)
    status, _, body = wms(stack, REQUEST="GetFeatureInfo", LAYERS="parks", QUERY_LAYERS="parks", STYLES="",
                          CRS="EPSG:3857", BBOX=",".join(f"{v:.2f}" for v in BBOX), WIDTH=256, HEIGHT=256,
                          I=i, J=j, INFO_FORMAT="application/json", FEATURE_COUNT=1)
    assert status == 200, body[:500]
    features = json.loads(body)["features"]
    assert [f["properties"] for f in features] == [{"name": "Riverside Park", "area_ha": 42.5}]


def test_forwarded_headers_set_the_urls_in_capabilities(stack):
    status, _, body = wms(stack, REQUEST="GetCapabilities",
                          headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "maps.example.org"})
    assert status == 200
    root = ET.fromstring(body)
    hrefs = [el.get(f"{{{WMS_NS['xlink']}}}href") for el in root.iterfind(".//wms:OnlineResource", WMS_NS)]
    assert hrefs
    assert all(href.startswith("https://maps.example.org/") for href in hrefs), hrefs[:3]


def test_xml_is_gzipped_and_images_are_not(stack):
    _, headers, body = wms(stack, headers={"Accept-Encoding": "gzip"}, REQUEST="GetCapabilities")
    assert headers["Content-Encoding"] == "gzip"
    assert b"WMS_Capabilities" in gzip.decompress(body)
    _, headers, _ = wms(stack, headers={"Accept-Encoding": "gzip"}, REQUEST="GetMap", LAYERS="parks",
                        STYLES="", CRS="EPSG:3857", BBOX=",".join(f"{v:.2f}" for v in BBOX),
                        WIDTH=64, HEIGHT=64, FORMAT="image/png")
    assert headers["Content-Type"] == "image/png"
    assert headers.get("Content-Encoding") is None


def test_nginx_reveals_no_versions(stack):
    _, headers, _ = wms(stack, REQUEST="GetCapabilities")
    assert headers.get_all("Server") == ["nginx"], "neither nginx's nor QGIS's version may leak"


def test_auto_process_count_starts_one_worker_per_cpu(stack, declared):
    assert declared["env"]["QGIS_FCGI_PROCESSES"] == "0"
    workers = qgis_workers(stack["qgis"]["process"].pid)
    assert len(workers) == len(os.sched_getaffinity(0))
