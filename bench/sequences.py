"""Request sequences for the benchmark's uncached mixes.

A request that was sent once may be answered from nginx's cache the next time, so an
"uncached" figure is only honest if no request repeats: not between the warm-up and the runs,
not between runs, and not between the wrk threads of one run. `UniqueRequests` hands out
requests from one generator per benchmark and refuses to issue any request twice.
"""
from __future__ import annotations

import random
from typing import Callable, Sequence

Bbox = tuple[float, float, float, float]


class UniqueRequests:
    """Distinct request paths, one list per wrk thread, never repeated within a benchmark.

    `make_path(rng)` draws one candidate path; candidates already issued are drawn again.
    """

    def __init__(self, make_path: Callable[[random.Random], str], seed: int | None = None):
        self._make_path = make_path
        self._rng = random.Random(seed)
        self._issued: set[str] = set()

    def run(self, threads: int, per_thread: int) -> list[list[str]]:
        """Fresh paths for one run: `threads` lists of `per_thread`, none issued before."""
        lists = []
        for _ in range(threads):
            paths: list[str] = []
            misses = 0
            while len(paths) < per_thread:
                path = self._make_path(self._rng)
                if path in self._issued:
                    misses += 1
                    if misses > 1000:
                        raise RuntimeError("the request space is exhausted: widen it or send fewer requests")
                    continue
                self._issued.add(path)
                paths.append(path)
            lists.append(paths)
        return lists


def random_getmap(extent: Bbox, tile: float, size: int, layers: str) -> Callable[[random.Random], str]:
    """Draws a size x size GetMap of a `tile`-metre square anywhere inside `extent` (EPSG:3857).

    Corners are rounded to a millimetre, so two draws are the same request only if they are the
    same bbox; the odds of that are what UniqueRequests guards against.
    """
    def draw(rng: random.Random) -> str:
        x = extent[0] + rng.random() * (extent[2] - extent[0] - tile)
        y = extent[1] + rng.random() * (extent[3] - extent[1] - tile)
        return getmap_path((x, y, x + tile, y + tile), size, layers)
    return draw


def getmap_path(bbox: Sequence[float], size: int, layers: str) -> str:
    return ("/qgis-server?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap"
            f"&LAYERS={layers}&STYLES=&CRS=EPSG:3857&WIDTH={size}&HEIGHT={size}&FORMAT=image/png"
            "&BBOX=" + ",".join(f"{v:.3f}" for v in bbox))
