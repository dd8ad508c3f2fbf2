"""Requests one after the other while a rollout runs, counting every answer that is not a 200."""
from __future__ import annotations

import threading
import time
from typing import Callable

from tests.e2e.wms_checks import get_map, shifted_bbox

# The n-th request: its HTTP status and body.
Request = Callable[[int], tuple[int, bytes]]


class SteadyLoad(threading.Thread):
    def __init__(self, request: Request, pause_s: float):
        super().__init__(daemon=True)
        self.request, self.pause_s = request, pause_s
        self.stop, self.ok, self.failed = threading.Event(), 0, []

    def run(self) -> None:
        count = 0
        while not self.stop.is_set():
            count += 1
            try:
                status, body = self.request(count)
                if status == 200:
                    self.ok += 1
                else:
                    self.failed.append(f"HTTP {status}: {body[:200]!r}")
            except OSError as error:
                self.failed.append(repr(error))
            time.sleep(self.pause_s)

    def __enter__(self) -> "SteadyLoad":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.join()

    @property
    def total(self) -> int:
        return self.ok + len(self.failed)


def uncached_maps(url: str) -> Request:
    """GetMap requests for ever new extents, so each reaches QGIS."""
    def request(count: int) -> tuple[int, bytes]:
        status, _, body = get_map(url, bbox=shifted_bbox(count * 0.01))
        return status, body
    return request
