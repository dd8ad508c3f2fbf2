"""Project folders the end-to-end tests deploy: the repo's sample and a second project beside it.

"city" sits in a subfolder with its own copies of the layers and its own title, so every
answer can be told apart from the sample's.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from offline.program_run import PROJECT_ROOT

# A font neither fontconfig knows: matplotlib (Debian's python3-matplotlib, which python3-qgis
# brings) keeps it in a folder of its own.
FONT = Path("/usr/share/matplotlib/mpl-data/fonts/ttf/STIXGeneralBol.ttf")
FAMILY = "STIXGeneral"
PLUGIN = '''from qgis.server import QgsServerFilter


class Stamp(QgsServerFilter):
    def responseComplete(self):
        self.serverInterface().requestHandler().setResponseHeader("X-Geostack-Plugin", "stamped")


def serverClassFactory(server_iface):
    server_iface.registerFilter(Stamp(server_iface), 100)
    return object()
'''
METADATA = """[general]
name=geostack stamp
qgisMinimumVersion=3.40
description=Adds X-Geostack-Plugin to every answer
version=1.0
author=geostack tests
email=tests@example.org
server=True
"""

CITY_TITLE = "City of Tests"
SAMPLE_TITLE = "geostack sample"
LAYERS = ("parks.geojson", "sites.geojson")


def make_two_project_folder(folder: Path) -> Path:
    """sample.qgs at the root and city/city.qgs, each with the sample's layers, in `folder`."""
    for name in ("sample.qgs", *LAYERS):
        shutil.copy(PROJECT_ROOT / "data" / name, folder / name)
    city = folder / "city"
    city.mkdir()
    for name in LAYERS:
        shutil.copy(PROJECT_ROOT / "data" / name, city / name)
    sample = (PROJECT_ROOT / "data" / "sample.qgs").read_text()
    # The project title and the WMS service title, wherever the project states them.
    assert sample.count(f">{SAMPLE_TITLE}<") == 3
    (city / "city.qgs").write_text(sample.replace(f">{SAMPLE_TITLE}<", f">{CITY_TITLE}<"))
    return folder


def add_font(folder: Path) -> None:
    """fonts/ with a font the host's and the image's fontconfig do not know."""
    (folder / "fonts").mkdir()
    shutil.copy(FONT, folder / "fonts" / FONT.name)


def add_stamp_plugin(folder: Path) -> None:
    """plugins/ with a QGIS Server plugin that stamps every answer with X-Geostack-Plugin."""
    plugin = folder / "plugins" / "geostack_stamp"
    plugin.mkdir(parents=True)
    (plugin / "__init__.py").write_text(PLUGIN)
    (plugin / "metadata.txt").write_text(METADATA)
