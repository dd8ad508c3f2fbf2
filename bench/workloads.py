"""What the benchmark asks for: a QGIS project and the request mixes a web map sends to it.

- quick: the small sample in data/ (a tile renders in ~5 ms, so nginx and wrk weigh a lot);
- heavy: the project scripts/make_heavy_project.py generates (tens of thousands of labelled
  polygons with rule-based styles, roads, points and a raster; several layers per request).

A mix is either *distinct* (a fresh list per run from one generator, never repeated, which nginx
must answer with MISS or BYPASS) or *repeated* (a fixed list with realistic popularity, which a
cache may serve).
"""
from __future__ import annotations

import json
import math
from collections import Counter
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import urlencode

from bench.sequences import Bbox, getmap_path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WORLD = 20037508.342789244  # half the width of the EPSG:3857 world, in metres
OWS = "/qgis-server?"


@dataclass
class Mix:
    name: str
    draw: Optional[Callable[[random.Random], str]] = None  # distinct: one fresh request per call
    paths: list[str] = field(default_factory=list)  # repeated: sent in order, over and over

    @property
    def distinct(self) -> bool:
        return self.draw is not None


@dataclass
class Workload:
    name: str
    data_dir: Path
    project: Path
    mixes: list[Mix]

    @property
    def hot_tiles(self) -> list[str]:
        """The 100 most requested tiles of the tile mix: what a warm cache serves most."""
        tiles = next(m for m in self.mixes if m.name == "tiles").paths
        return [path for path, _ in Counter(tiles).most_common(100)]


def ows(**params: str | int) -> str:
    return OWS + urlencode({k.upper(): v for k, v in params.items()}, safe=",:/")


def random_square(extent: Bbox, size: float, rng: random.Random) -> Bbox:
    x = extent[0] + rng.random() * (extent[2] - extent[0] - size)
    y = extent[1] + rng.random() * (extent[3] - extent[1] - size)
    return (x, y, x + size, y + size)


def bbox_text(bbox: Bbox) -> str:
    return ",".join(f"{v:.3f}" for v in bbox)


def tile_pyramid(extent: Bbox, zooms: dict[int, float], layers: str, count: int, seed: int = 7) -> list[str]:
    """256 px tiles of the extent at several zoom levels, requested the way map users do: each zoom
    with its share of the traffic, and within a zoom, tiles near the centre far more often
    (zipf by distance rank)."""
    rng = random.Random(seed)
    centre = ((extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2)
    picks = []
    for zoom, share in zooms.items():
        size = 2 * WORLD / 2**zoom
        tiles = [(x, y) for x in _steps(extent[0], extent[2], size) for y in _steps(extent[1], extent[3], size)]
        tiles.sort(key=lambda t: math.dist((t[0] + size / 2, t[1] + size / 2), centre))
        weights = [1 / (rank + 1) for rank in range(len(tiles))]
        for x, y in rng.choices(tiles, weights=weights, k=round(count * share)):
            picks.append(getmap_path((x, y, x + size, y + size), 256, layers))
    rng.shuffle(picks)
    return picks


def _steps(low: float, high: float, size: float) -> list[float]:
    start = math.floor((low + WORLD) / size) * size - WORLD
    return [start + i * size for i in range(math.ceil((high - start) / size))]


def quick() -> Workload:
    data = PROJECT_ROOT / "data"
    extent = (1112694.9, 6445775.8, 1123713.7, 6460642.0)
    layers = "parks,sites"
    return Workload("quick", data, data / "sample.qgs", [
        Mix("getmap", draw=lambda rng: getmap_path(random_square(extent, 1500, rng), 256, layers)),
        Mix("tiles", paths=tile_pyramid(extent, {14: 1.0}, layers, 4000)),
        Mix("capabilities", paths=[ows(service="WMS", version="1.3.0", request="GetCapabilities")]),
    ])


def heavy(directory: Path) -> Workload:
    """The generated project; heavy.json beside it names its extent and layers."""
    meta = json.loads((directory / "heavy.json").read_text())
    extent, layers = tuple(meta["extent"]), meta["default_layers"]
    query = "parcels"  # what a click identifies, and what WFS clients fetch
    return Workload("heavy", directory, directory / "heavy.qgs", [
        # A street-level view (600 m across, about 1:8 400: parcel outlines and labels show).
        Mix("getmap", draw=lambda rng: getmap_path(random_square(extent, 600, rng), 256, layers)),
        Mix("tiles", paths=tile_pyramid(extent, {13: 0.15, 14: 0.35, 15: 0.3, 16: 0.2}, layers, 6000)),
        Mix("featureinfo", draw=lambda rng: ows(
            service="WMS", version="1.3.0", request="GetFeatureInfo", layers=layers, query_layers=query,
            styles="", crs="EPSG:3857", bbox=bbox_text(random_square(extent, 600, rng)), width=256, height=256,
            i=rng.randrange(256), j=rng.randrange(256), info_format="text/xml", feature_count=5)),
        Mix("legend", paths=[ows(service="WMS", version="1.3.0", request="GetLegendGraphic", layers=layers,
                                 format="image/png", sld_version="1.1.0")]),
        Mix("wfs", draw=lambda rng: ows(
            service="WFS", version="1.1.0", request="GetFeature", typename=query, srsname="EPSG:3857",
            bbox=bbox_text(random_square(extent, 400, rng)) + ",EPSG:3857", maxfeatures=50)),
        Mix("capabilities", paths=[ows(service="WMS", version="1.3.0", request="GetCapabilities")]),
    ])
