"""A project folder's fonts/ and plugins/ reach QGIS Server, on loopback behind the rendered nginx.

Fonts: a project labels its sites in STIXGeneral, a font the host's fontconfig does not know
(matplotlib ships it in its own folder). Served from a folder whose fonts/ holds it, the
labels differ from the same folder without it, where QGIS falls back to another font.
Plugins: a server plugin in plugins/ adds a response header to every answer.
"""
from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from offline.loopback import (declared_dev_stack, free_port, loopback_nginx_conf, nginx, qgis_server, scratch_dir)
from offline.program_run import PROJECT_ROOT
from tests.e2e.project_folders import FAMILY, FONT, add_font, add_stamp_plugin
from tests.e2e.pyqgis import run_pyqgis
from tests.e2e.wms_checks import BBOX_PARAM, wms


def _labelled_folder(folder: Path, with_font: bool) -> Path:
    for name in ("parks.geojson", "sites.geojson"):
        shutil.copy(PROJECT_ROOT / "data" / name, folder / name)
    shutil.copy(PROJECT_ROOT / "data" / "sample.qgs", folder / "source.qgs.tmp")
    run_pyqgis(PROJECT_ROOT / "tests" / "e2e" / "label_project.py", str(folder / "source.qgs.tmp"),
               str(folder / "labels.qgs"), FAMILY)
    (folder / "source.qgs.tmp").unlink()
    add_stamp_plugin(folder)
    if with_font:
        add_font(folder)
    return folder


@contextlib.contextmanager
def _served(folder: Path):
    declared = declared_dev_stack({"geostack:qgisProjectDir": str(folder), "geostack:qgisProjectFile": "labels.qgs"})
    qgis_port, nginx_port = free_port(), free_port()
    with qgis_server(declared["env"], folder, qgis_port), scratch_dir("geostack-nginx-") as scratch:
        conf = loopback_nginx_conf(declared["nginx_conf"], nginx_port, declared["upstream"], qgis_port, scratch, folder)
        with nginx(conf, nginx_port, scratch) as base_url:
            yield base_url + "/ogc/labels"


@pytest.fixture(scope="module")
def servers():
    assert FONT.exists(), f"{FONT} (Debian's python3-matplotlib) is the test's font"
    fontconfig = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, check=True).stdout
    assert FAMILY not in fontconfig, "the host knows the font already: the test would prove nothing"
    with scratch_dir("geostack-fonts-") as with_font, scratch_dir("geostack-nofonts-") as without_font:
        with _served(_labelled_folder(with_font, True)) as url, \
                _served(_labelled_folder(without_font, False)) as fallback_url:
            yield {"url": url, "fallback_url": fallback_url}


def _labels(url: str) -> Image.Image:
    status, headers, body = wms(url, REQUEST="GetMap", VERSION="1.3.0", LAYERS="sites", STYLES="",
                                CRS="EPSG:3857", BBOX=BBOX_PARAM, WIDTH="512", HEIGHT="512", FORMAT="image/png",
                                TRANSPARENT="true")
    assert status == 200 and headers["Content-Type"] == "image/png", body[:300]
    return Image.open(io.BytesIO(body)).convert("RGBA")


def _dark_pixels(image: Image.Image) -> set[tuple[int, int]]:
    """Where the black label text is drawn."""
    width, height = image.size
    pixels = image.load()
    return {(x, y) for x in range(width) for y in range(height)
            if pixels[x, y][3] > 128 and sum(pixels[x, y][:3]) < 120}


def test_labels_render_in_the_font_of_the_project_folder(servers):
    own, fallback = _dark_pixels(_labels(servers["url"])), _dark_pixels(_labels(servers["fallback_url"]))
    assert len(own) > 500 and len(fallback) > 500, "no label text drawn"
    differing = len(own ^ fallback) / len(own | fallback)
    assert differing > 0.3, f"labels look the same with and without the project's font ({differing:.0%} differ)"


def test_server_plugins_of_the_project_folder_are_loaded(servers):
    status, headers, _ = wms(servers["url"], REQUEST="GetCapabilities")
    assert status == 200
    assert headers["X-Geostack-Plugin"] == "stamped"
