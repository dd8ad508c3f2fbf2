"""What the QGIS workers of a setup do during a run: their peak memory and their share of the CPU."""
from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

from offline.loopback import qgis_workers

TICKS = os.sysconf("SC_CLK_TCK")


def _status_kb(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith(field)))


def _cpu_seconds(pid: int) -> float:
    # Fields after the command (which may hold spaces): utime and stime are the 12th and 13th.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class WorkerSampler:
    """Samples a session's QGIS workers every 0.2 s: peak RSS (summed and per worker) and the CPU
    seconds each worker used during the run, so a starved worker shows."""

    def __init__(self, session: int):
        self.session, self._stop = session, threading.Event()
        self.peak_total_kb, self.peak_worker_kb = 0, 0
        self._start_cpu: dict[int, float] = {}
        self._last_cpu: dict[int, float] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        total = 0
        for pid in qgis_workers(self.session):
            with contextlib.suppress(OSError, StopIteration, ValueError):
                rss = _status_kb(pid, "VmRSS")
                total += rss
                self.peak_worker_kb = max(self.peak_worker_kb, rss)
                cpu = _cpu_seconds(pid)
                self._start_cpu.setdefault(pid, cpu)
                self._last_cpu[pid] = cpu
        self.peak_total_kb = max(self.peak_total_kb, total)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(0.2)

    def worker_cpu_seconds(self) -> list[float]:
        """CPU seconds per worker over the run (workers that were replaced count separately)."""
        return sorted(round(self._last_cpu[pid] - self._start_cpu[pid], 2) for pid in self._last_cpu)

    def __enter__(self) -> "WorkerSampler":
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
