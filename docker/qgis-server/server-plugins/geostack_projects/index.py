"""Every project under a folder by name: the folder's tree is scanned, not listed in config.

Plain Python (no QGIS), so the rules can be tested on their own. They are the program's rules
for a project folder (components/qgis_projects.py), which a unit test holds them to: a project
is a .qgs or .qgz file; hidden files and folders, and the root's fonts/ and plugins/, hold none;
its name is the file name without the suffix, and only URL-safe names have an address.
"""
from __future__ import annotations

import math
import os
import re
import time
from typing import Callable

SUFFIXES = (".qgs", ".qgz")
RESERVED_DIRS = ("fonts", "plugins")
URL_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def scan(root: str) -> tuple[dict[str, list[str]], list[str]]:
    """The project files under `root` by name (two files may share one), and the folders
    that hold any project, URL-safe name or not."""
    root = os.path.normpath(root)
    by_name: dict[str, list[str]] = {}
    folders: set[str] = set()
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders
                               if not d.startswith(".") and not (folder == root and d in RESERVED_DIRS))
        for file in sorted(files):
            stem, suffix = os.path.splitext(file)
            if file.startswith(".") or suffix.lower() not in SUFFIXES:
                continue
            folders.add(folder)
            if URL_SAFE_NAME.fullmatch(stem):
                by_name.setdefault(stem, []).append(os.path.join(folder, file))
    return by_name, sorted(folders)


class ProjectIndex:
    """`scan` of a root, kept for `max_age` seconds. A name that finds no file, or two, scans
    again (at most every `miss_age` seconds, so unknown names cannot keep a worker walking the
    tree): a project copied in or moved is found within `miss_age`, a removed one is gone at once."""

    def __init__(self, root: str, max_age: float = 30.0, miss_age: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self.root = root
        self.max_age = max_age
        self.miss_age = miss_age
        self._clock = clock
        self._scanned_at = -math.inf
        self._by_name: dict[str, list[str]] = {}
        self._folders: list[str] = []

    def _scan_if_older_than(self, seconds: float) -> None:
        if self._clock() - self._scanned_at > seconds:
            self._by_name, self._folders = scan(self.root)
            self._scanned_at = self._clock()

    def paths(self, name: str) -> list[str]:
        """Every project file named `name` that is there now: one to serve, none or two to refuse."""
        self._scan_if_older_than(self.max_age)
        found = self._files(name)
        if len(found) != 1:
            self._scan_if_older_than(self.miss_age)
            found = self._files(name)
        return found

    def _files(self, name: str) -> list[str]:
        return [path for path in self._by_name.get(name, []) if os.path.isfile(path)]

    def folders(self) -> list[str]:
        self._scan_if_older_than(self.max_age)
        return list(self._folders)
