"""Project folders the end-to-end tests deploy: the repo's sample and a second project beside it.

"city" sits in a subfolder with its own copies of the layers and its own title, so every
answer can be told apart from the sample's.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from offline.program_run import PROJECT_ROOT

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
