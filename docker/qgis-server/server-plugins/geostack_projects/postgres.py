"""Projects saved in PostgreSQL with QGIS's own project storage, listed by name."""
from qgis.core import QgsApplication

from .index import URL_SAFE_NAME


def lister(connection: str):
    """A function listing the projects of `connection`, a QGIS project-storage URI without a
    project (postgresql:///?service=geostack&schema=maps), each as the URI that opens it. The
    landing page makes the same URIs from the same string, so their ids agree."""
    storage = QgsApplication.projectStorageRegistry().projectStorageFromType("postgresql")

    def list_projects() -> dict:
        return {name: [f"{connection}&project={name}"] for name in storage.listProjects(connection)
                if URL_SAFE_NAME.fullmatch(name)}
    return list_projects
