"""Every project under a folder by name: the folder's tree is scanned, not listed in config.

Plain Python (no QGIS), so the rules can be tested on their own. They are the program's rules
for a project folder (pulumi_geostack/qgis_projects.py), which a unit test holds them to: a project
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
    """Projects by name from `list_projects`, kept for `max_age` seconds. `still_there` checks a
    listed project on each lookup (a file that is gone is not served); a miss lists again, at most
    every `miss_age` seconds (see `lookup`). `listed`: a listing just made, to start from."""

    def __init__(self, list_projects: Callable[[], dict[str, list[str]]],
                 still_there: Callable[[str], bool] = lambda _: True, max_age: float = 30.0,
                 miss_age: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 listed: dict[str, list[str]] | None = None):
        self._list_projects = list_projects
        self._still_there = still_there
        self.max_age = max_age
        self.miss_age = miss_age
        self._clock = clock
        self._listed_at = -math.inf if listed is None else clock()
        self._by_name: dict[str, list[str]] = listed or {}

    @classmethod
    def of_folder(cls, root: str, **kwargs) -> "ProjectIndex":
        return cls(lambda: scan(root)[0], os.path.isfile, **kwargs)

    def _list_if_older_than(self, seconds: float) -> None:
        if self._clock() - self._listed_at > seconds:
            self._by_name = self._list_projects()
            self._listed_at = self._clock()

    def current(self, name: str) -> list[str]:
        self._list_if_older_than(self.max_age)
        return [where for where in self._by_name.get(name, []) if self._still_there(where)]

    def list_again_after_a_miss(self) -> None:
        self._list_if_older_than(self.miss_age)


def lookup(indexes: list[ProjectIndex], name: str) -> list[str]:
    """Every project named `name` in any index: one to serve, none or several to refuse. A miss
    lists again (at most once a `miss_age`, so unknown names cannot keep a worker walking the tree
    or querying the database): a project copied in or saved is found within `miss_age`, a removed
    file is gone at once."""
    found = [where for index in indexes for where in index.current(name)]
    if len(found) != 1:
        for index in indexes:
            index.list_again_after_a_miss()
        found = [where for index in indexes for where in index.current(name)]
    return found
