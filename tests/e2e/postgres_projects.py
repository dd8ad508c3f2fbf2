"""Publishing a project into PostgreSQL as a QGIS Desktop user does, for the tests that serve it."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from offline.program_run import PROJECT_ROOT
from tests.e2e.pyqgis import run_pyqgis

SAVE_SCRIPT = PROJECT_ROOT / "tests" / "e2e" / "save_project_to_postgres.py"
# docs/publishing-projects.md: "A new project is served within a second of being saved". A QGIS
# worker that listed the database just before the save answers 404 for it until its next listing,
# which a miss allows one second after the last (the plugin's ProjectIndex.miss_age).
SERVED_WITHIN_SECONDS = 1.0
# A listing under way during the save ends a moment after it, and its second counts from there.
LISTING_MARGIN_SECONDS = 0.2


def save_project(service_file: Path, service: str, schema: str, name: str, title: str) -> None:
    """The sample, its layers copied into tables with a `fid` key, saved as project `name` with
    QGIS's own API (Debian's PyQGIS), all through `service` of `service_file`, so neither the
    project nor its layers hold a password.

    Then the tables are analyzed: with qgisTrustLayerMetadata (on by default) QGIS takes a table's
    row count from PostgreSQL's statistics, and OGC API refuses the items of a table never analyzed
    (the config reference and docs/publishing-projects.md tell users so).

    Returns once the docs' promise holds: SERVED_WITHIN_SECONDS after the save (in CI, a worker
    that had listed a moment before answered 404 to a request made at once)."""
    run_pyqgis(SAVE_SCRIPT, str(PROJECT_ROOT / "data" / "sample.qgs"), service, schema, name, title,
               env={"PGSERVICEFILE": str(service_file)})
    saved = time.monotonic()
    subprocess.run(["psql", f"service={service}", "-q", "-c", "ANALYZE"], check=True, capture_output=True,
                   env={**os.environ, "PGSERVICEFILE": str(service_file)})
    time.sleep(max(0.0, SERVED_WITHIN_SECONDS + LISTING_MARGIN_SECONDS - (time.monotonic() - saved)))


def service_file_on_host(declared: str, declared_host: str, host: str, port: int, path: Path) -> Path:
    """The declared pg_service.conf with the server's address swapped for the one this host reaches."""
    lines = declared.splitlines(keepends=True)
    assert f"host={declared_host}\n" in lines and any(line.startswith("port=") for line in lines)
    path.write_text("".join(f"host={host}\n" if line == f"host={declared_host}\n" else
                            f"port={port}\n" if line.startswith("port=") else line for line in lines))
    return path
