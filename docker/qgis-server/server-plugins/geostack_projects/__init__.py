"""geostack's QGIS Server plugin for projects the program cannot see: on a claim, or in PostgreSQL.

nginx passes /ogc/<name> on with the FastCGI parameter GEOSTACK_PROJECT_NAME (a URL-safe name:
nginx's location allows no other) and no project file. This filter finds <name>.qgs or
<name>.qgz anywhere under GEOSTACK_PROJECTS_ROOT, or a project of that name saved with QGIS's
project storage where GEOSTACK_PROJECTS_POSTGRES points, and has QGIS open it, as the MAP
parameter (which nginx refuses from clients). A name that finds no project, or two, is answered
404 and opens nothing.

QGIS's landing page lists only the folders it is given, not their subfolders: at start this
plugin gives it every folder of the root that holds a project. QGIS watches those, so a project
added to one is listed at once; a project in a folder made later is listed once the server
restarts (it is served at /ogc/<name> at once).
"""
import os
import re

from qgis.core import Qgis, QgsMessageLog
from qgis.server import QgsServerException, QgsServerFilter

from .index import ProjectIndex, lookup, scan

NAME_PARAMETER = "GEOSTACK_PROJECT_NAME"
ROOT_VARIABLE = "GEOSTACK_PROJECTS_ROOT"
# A QGIS project-storage URI without a project: projects saved in PostgreSQL.
POSTGRES_VARIABLE = "GEOSTACK_PROJECTS_POSTGRES"
LANDING_PAGE_FOLDERS = "QGIS_SERVER_LANDING_PAGE_PROJECTS_DIRECTORIES"
# Where libpq finds the stack's connection to PostgreSQL (geostack:qgisDatabase*).
CARRIED_VARIABLES = ("PGSERVICEFILE",)
TAG = "geostack"


def _without_credentials(where: str) -> str:
    """A path, or a storage URI with any user:password@ taken out, for the log."""
    return re.sub(r"//[^/@]*@", "//", where)


class ProcessEnvironment(QgsServerFilter):
    """Puts variables of the process's own environment back for each request.

    While a request is served, libfcgi swaps the process environment for the request's FastCGI
    parameters, so libpq would not see the container's PGSERVICEFILE when it opens a project, or
    a layer, saved in PostgreSQL ("definition of service not found")."""

    def __init__(self, server_iface, values: dict):
        super().__init__(server_iface)
        self._values = values

    def onRequestReady(self) -> bool:
        for key, value in self._values.items():
            os.environ[key] = value  # putenv: into the request's environment, which libpq reads
        return True


class ProjectByName(QgsServerFilter):
    def __init__(self, server_iface, indexes: list):
        super().__init__(server_iface)
        self._indexes = indexes

    def onRequestReady(self) -> bool:
        iface = self.serverInterface()
        # A FastCGI parameter: QGIS swaps the process environment for the request's.
        name = iface.getEnv(NAME_PARAMETER)
        if not name:
            return True
        paths = lookup(self._indexes, name)
        handler = iface.requestHandler()
        if len(paths) == 1:
            handler.setParameter("MAP", paths[0])
            return True
        if paths:
            QgsMessageLog.logMessage(f"/ogc/{name} is refused: {' and '.join(map(_without_credentials, paths))} share its name (rename one)",
                                     TAG, Qgis.MessageLevel.Warning)
            message = f"Two projects are named {name}"
        else:
            message = f"No project is named {name}"
        handler.setServiceException(QgsServerException(message, 404))
        return True

    def onProjectReady(self) -> bool:
        # QGIS has opened the project: take MAP off the request again. OGC API writes the
        # request's parameters into every link it returns, and a MAP there would give clients the
        # project's path (or a database URI) and links that nginx refuses.
        if self.serverInterface().getEnv(NAME_PARAMETER):
            self.serverInterface().requestHandler().removeParameter("MAP")
        return True


def serverClassFactory(server_iface):
    carried = {key: os.environ[key] for key in CARRIED_VARIABLES if os.environ.get(key)}
    if carried:
        server_iface.registerFilter(ProcessEnvironment(server_iface, carried), 0)
    root = os.environ.get(ROOT_VARIABLE, "")
    postgres = os.environ.get(POSTGRES_VARIABLE, "")
    indexes = []
    if root:
        by_name, folders = scan(root)
        indexes.append(ProjectIndex.of_folder(root, listed=by_name))
        # Before the first request the environment is still the process's own (a request's
        # FastCGI parameters replace it), so QGIS can re-read its settings with the folders added.
        os.environ[LANDING_PAGE_FOLDERS] = "||".join(folders)
        server_iface.reloadSettings()
    if postgres:
        from .postgres import lister
        indexes.append(ProjectIndex(lister(postgres)))
    if not indexes:
        QgsMessageLog.logMessage(f"neither {ROOT_VARIABLE} nor {POSTGRES_VARIABLE} is set: /ogc/<name> finds no project",
                                 TAG, Qgis.MessageLevel.Warning)
        return object()
    server_iface.registerFilter(ProjectByName(server_iface, indexes), 10)
    return object()
