"""Measure the QGIS Server image: build time and size, against the same packages untrimmed.

    sudo venv/bin/python scripts/measure_image.py

Uses the engine DOCKER_HOST points at, or starts a private dockerd like the tests do.
Prints a markdown table for docs/performance.md. Builds run without the layer cache.
"""
from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_geostack.config_keys import QGIS_DEFAULT_RELEASE, QGIS_RELEASES  # noqa: E402
from tests.e2e.docker_engine import docker_engine, ensure_base_image, stop_private_engine  # noqa: E402

CONTEXT = Path(__file__).resolve().parent.parent / "docker" / "qgis-server"


def untrimmed_dockerfile() -> str:
    """The product's package list (the default release's), installed the plain way: no dpkg
    excludes, no cleanup."""
    dockerfile = (CONTEXT / "Dockerfile").read_text()
    lines = re.search(r"--no-install-suggests \\\n(.+?)\n \&\&", dockerfile, re.DOTALL).group(1)
    packages = " ".join(lines.replace("\\", " ").split())
    release = QGIS_RELEASES[QGIS_DEFAULT_RELEASE]
    packages = packages.replace('"${QGIS_VERSION}"', release["QGIS_VERSION"])
    return (f"FROM debian:{release['DEBIAN_RELEASE']}-slim\n"
            f"RUN apt-get update && apt-get install -y --no-install-recommends {packages}\n")


def build(client, path: str, tag: str) -> tuple[float, int]:
    start = time.monotonic()
    image, _ = client.images.build(path=path, tag=tag, rm=True, forcerm=True, nocache=True)
    return time.monotonic() - start, image.attrs["Size"]


def main() -> None:
    with docker_engine() as client:
        ensure_base_image(client)
        rows = []
        seconds, size = build(client, str(CONTEXT), "geostack/qgis-server:measure")
        rows.append(("geostack image (docker/qgis-server)", seconds, size))
        with tempfile.TemporaryDirectory() as context:
            (Path(context) / "Dockerfile").write_text(untrimmed_dockerfile())
            seconds, size = build(client, context, "geostack/qgis-server:untrimmed")
            rows.append(("same packages, untrimmed", seconds, size))
        for tag in ("geostack/qgis-server:measure", "geostack/qgis-server:untrimmed"):
            client.images.remove(tag, force=True)
    print("| image | build time | size |\n|---|---|---|")
    for name, seconds, size in rows:
        print(f"| {name} | {seconds:.0f} s | {size / 1e6:.0f} MB |")


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_private_engine()
