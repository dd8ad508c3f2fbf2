"""Scripts of the tests that use QGIS's own Python API, run with Debian's python3 (PyQGIS)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from offline.loopback import scratch_dir


def run_pyqgis(script: Path, *args: str, env: dict[str, str] | None = None) -> None:
    """Run `script` headless. QGIS leaves a QGIS3-* temp dir behind for each run, so TMPDIR is a
    scratch dir that goes with the run."""
    with scratch_dir("geostack-pyqgis-") as scratch:
        subprocess.run(["/usr/bin/python3", str(script), *args], check=True, capture_output=True, timeout=120,
                       env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "TMPDIR": str(scratch), **(env or {})})
