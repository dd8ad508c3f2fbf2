"""What a user checks on a running QGIS Server with the sample project, through nginx.

Shared by the loopback test and the Docker test, so both targets are held to the same bar.
"""
from __future__ import annotations

import io
import json
import math
import xml.etree.ElementTree as ET

from PIL import Image

from offline.loopback import http_get

WMS_NS = {"wms": "http://www.opengis.net/wms", "xlink": "http://www.w3.org/1999/xlink"}
PARK_GREEN = (46, 139, 87)
SITE_RED = (200, 30, 30)


def mercator(lon: float, lat: float) -> tuple[float, float]:
    radius = 6378137.0
    return (math.radians(lon) * radius,
            math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * radius)


# The sample's features lie within lon 10.00-10.09, lat 50.00-50.08 (scripts/make_sample_data.py).
BBOX = (*mercator(9.995, 49.995), *mercator(10.095, 50.085))
BBOX_PARAM = ",".join(f"{v:.2f}" for v in BBOX)


def wms(url: str, headers=None, **params):
    """A WMS 1.3.0 request to `url` (e.g. http://host:port/qgis-server)."""
    query = "&".join(f"{key}={value}" for key, value in {"SERVICE": "WMS", "VERSION": "1.3.0", **params}.items())
    return http_get(f"{url}?{query}", headers)


def shifted_bbox(shift_m: float) -> str:
    """The sample's bbox moved by a few metres: a new URL (no cache hit), the same features."""
    x0, y0, x1, y1 = BBOX
    return f"{x0 + shift_m:.2f},{y0:.2f},{x1 + shift_m:.2f},{y1:.2f}"


def get_map(url: str, size: int = 256, layers: str = "parks,sites", headers=None, bbox: str = BBOX_PARAM):
    return wms(url, headers, REQUEST="GetMap", LAYERS=layers, STYLES="", CRS="EPSG:3857", BBOX=bbox,
               WIDTH=size, HEIGHT=size, FORMAT="image/png", TRANSPARENT="true")


def capabilities_answer(url: str) -> bool:
    """Whether the service answers GetCapabilities with the sample's layers (yet)."""
    try:
        return "parks" in capabilities_layer_names(url)
    except (AssertionError, OSError):  # an error page, or refused, reset or timed out
        return False


def capabilities_layer_names(url: str) -> set[str]:
    status, headers, body = wms(url, REQUEST="GetCapabilities")
    assert status == 200, body[:500]
    assert headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(body)
    assert root.findtext("wms:Service/wms:Title", namespaces=WMS_NS) == "geostack sample"
    return {el.text for el in root.iterfind(".//wms:Layer/wms:Name", WMS_NS)}


def assert_map_draws_features(url: str) -> None:
    status, headers, body = get_map(url)
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


def feature_info_at_riverside_park(url: str) -> list[dict]:
    x, y = mercator(10.02, 50.015)  # the centre of Riverside Park
    i = round((x - BBOX[0]) / (BBOX[2] - BBOX[0]) * 256)
    j = round((BBOX[3] - y) / (BBOX[3] - BBOX[1]) * 256)
    status, _, body = wms(url, REQUEST="GetFeatureInfo", LAYERS="parks", QUERY_LAYERS="parks", STYLES="",
                          CRS="EPSG:3857", BBOX=BBOX_PARAM, WIDTH=256, HEIGHT=256, I=i, J=j,
                          INFO_FORMAT="application/json", FEATURE_COUNT=1)
    assert status == 200, body[:500]
    return [feature["properties"] for feature in json.loads(body)["features"]]


RIVERSIDE_PARK = {"name": "Riverside Park", "area_ha": 42.5}
