"""The QGIS projects of a project folder: each `.qgs`/`.qgz` is served at `/ogc/<name>`.

Pure functions over the file system, run once by `pulumi_geostack/config.py`; a folder whose
projects cannot all be given an address is a config error there, before anything deploys.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

PROJECT_SUFFIXES = (".qgs", ".qgz")
# A name is one URL path segment that needs no escaping, so nginx can match it exactly.
URL_SAFE_NAME = r"[A-Za-z0-9][A-Za-z0-9_-]*"
# Folders of the project folder that hold no projects of their own: fonts QGIS renders with,
# and QGIS Server plugins.
FONTS_DIR = "fonts"
PLUGINS_DIR = "plugins"
RESERVED_DIRS = (FONTS_DIR, PLUGINS_DIR)
# What fontconfig reads, by the first bytes: TrueType, OpenType, collections, WOFF, Type 1.
_FONT_MAGIC = (b"\x00\x01\x00\x00", b"true", b"OTTO", b"ttcf", b"wOFF", b"wOF2", b"\x80\x01", b"%!PS-AdobeFont",
               b"%!FontType1")
# Font licences and notes travel with fonts.
_FONT_COMPANIONS = (".txt", ".md", ".html")


@dataclass(frozen=True)
class QgisProject:
    name: str  # its address: /ogc/<name>
    relative_path: str  # inside the project folder, e.g. roads/roads.qgz

    def path_in(self, mount: str) -> str:
        """Where QGIS opens it when the folder is mounted at `mount`."""
        return str(PurePosixPath(mount) / self.relative_path)

    def landing_page_id(self, mount: str) -> str:
        """The id QGIS Server's landing page gives it: the MD5 of the path it opens."""
        return hashlib.md5(self.path_in(mount).encode()).hexdigest()


@dataclass(frozen=True)
class QgisProjects:
    """What a QGIS server serves: every project, the default one, where they are mounted."""

    all: tuple[QgisProject, ...]
    default: QgisProject  # served at the proxy's own path (nginxPath)
    mount: str  # where the project folder is mounted in the QGIS containers
    data_version: str  # changes with any file of the folder
    # A PersistentVolumeClaim the data comes from instead (empty: the folder). The program
    # cannot look into it: `all` is just `default`, and the image's plugin finds the projects.
    claim: str = ""
    # More projects are saved in PostgreSQL, which the program does not look into either.
    in_database: bool = False

    @property
    def found_by_qgis(self) -> bool:
        """Whether /ogc/<name> can name projects the program does not know, which the image's
        geostack_projects plugin then finds (nginx passes names on, not files)."""
        return bool(self.claim) or self.in_database


def visible_files(directory: Path) -> list[Path]:
    """Files of a project folder that travel with the deployment.

    Hidden files and editor/QGIS backups (`*~`) stay behind.
    """
    return sorted(
        path for path in directory.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
        and not path.name.endswith("~")
    )


def project_files(directory: Path) -> list[Path]:
    """Every project file in the folder, outside its fonts/ and plugins/ folders."""
    return [path for path in visible_files(directory)
            if path.suffix.lower() in PROJECT_SUFFIXES
            and path.relative_to(directory).parts[0] not in RESERVED_DIRS]


def find_projects(directory: Path) -> tuple[tuple[QgisProject, ...], list[str]]:
    """The folder's projects by name, and what stops them being served (each a phrase)."""
    problems: list[str] = []
    by_name: dict[str, list[str]] = {}
    for path in project_files(directory):
        relative = path.relative_to(directory).as_posix()
        by_name.setdefault(path.stem, []).append(relative)
    projects = []
    for name, paths in sorted(by_name.items()):
        if not re.fullmatch(URL_SAFE_NAME, name):
            problems.append(f"project {paths[0]!r} has a name that is not URL-safe (rename it to letters, "
                            f"digits, '-' and '_', starting with a letter or digit)")
        elif len(paths) > 1:
            problems.append(f"projects {' and '.join(repr(p) for p in paths)} would both be served at /ogc/{name} "
                            "(rename one)")
        else:
            projects.append(QgisProject(name, paths[0]))
    if not by_name:
        problems.append("no QGIS project (.qgs or .qgz)")
    return tuple(projects), problems


def font_problems(directory: Path) -> list[str]:
    """Files of the folder's fonts/ that are neither fonts nor their licences (each a phrase)."""
    fonts = directory / FONTS_DIR
    if not fonts.is_dir():
        return []
    problems = []
    for path in visible_files(fonts):
        if path.suffix.lower() in _FONT_COMPANIONS:
            continue
        with open(path, "rb") as file:
            head = file.read(16)
        if not head.startswith(_FONT_MAGIC):
            problems.append(f"{path.relative_to(directory).as_posix()!r}, which is not a font")
    return problems


def folder_digest(directory: Path) -> str:
    """A short hash of every file that travels: a new one whenever anything in the folder changes."""
    digest = hashlib.sha256()
    for path in visible_files(directory):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]
