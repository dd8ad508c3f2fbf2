"""A project folder as uncompressed tar layers that are the same bytes on every machine.

Uncompressed, so a layer's digest depends only on the files (gzip's output may vary with the
zlib build, which would give another digest, and a needless rollout, on another machine).
Files of 16 MiB or more get a layer each; the others a layer per top-level folder (the root's
files one more), so changing one file re-sends one layer, not the whole folder.
"""
from __future__ import annotations

import hashlib
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from pulumi_geostack.qgis_projects import visible_files

OWN_LAYER_BYTES = 16 * 2**20
ROOT_GROUP = "."


@dataclass(frozen=True)
class LayerPlan:
    """Which of the folder's files (relative paths) go into one layer."""

    name: str  # the top-level folder, ROOT_GROUP, or the relative path of a file with a layer of its own
    files: tuple[str, ...]


@dataclass(frozen=True)
class Layer:
    plan: LayerPlan
    digest: str  # sha256:<hex> of the tar, which is also its diff ID (uncompressed)
    size: int
    file: BinaryIO  # the tar, to upload from the start


def plan_layers(folder: Path) -> list[LayerPlan]:
    groups: dict[str, list[str]] = {}
    own: list[LayerPlan] = []
    for path in visible_files(folder):
        relative = path.relative_to(folder).as_posix()
        if path.stat().st_size >= OWN_LAYER_BYTES:
            own.append(LayerPlan(relative, (relative,)))
            continue
        parts = PurePosixPath(relative).parts
        groups.setdefault(parts[0] if len(parts) > 1 else ROOT_GROUP, []).append(relative)
    return [LayerPlan(name, tuple(files)) for name, files in sorted(groups.items())] + own


def _directories(files: tuple[str, ...], root: str) -> list[str]:
    """Every folder the files are in, parents first, so the layer makes them with known modes."""
    folders = {root}
    for relative in files:
        for parent in PurePosixPath(relative).parents:
            if str(parent) != ".":
                folders.add(f"{root}/{parent}")
    return sorted(folders)


def _entry(name: str, directory: bool, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory else 0o644  # root's, readable by the QGIS user
    info.size = size
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


class _Hashing:
    """A file wrapper that hashes and counts what is written through it."""

    def __init__(self, file: BinaryIO):
        self.file, self.sha256, self.size = file, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.file.write(data)


def build_layer(folder: Path, plan: LayerPlan, root: str) -> Layer:
    """The plan's files under `root` (a path in the image without its leading slash, e.g. data),
    written to a temporary file that goes away when closed."""
    file = tempfile.TemporaryFile(prefix="geostack-layer-")
    hashing = _Hashing(file)
    with tarfile.open(fileobj=hashing, mode="w|", format=tarfile.PAX_FORMAT) as archive:
        for directory in _directories(plan.files, root):
            archive.addfile(_entry(directory, directory=True))
        for relative in plan.files:
            path = folder / relative
            with open(path, "rb") as content:
                archive.addfile(_entry(f"{root}/{relative}", directory=False, size=path.stat().st_size), content)
    file.seek(0)
    return Layer(plan, f"sha256:{hashing.sha256.hexdigest()}", hashing.size, file)
