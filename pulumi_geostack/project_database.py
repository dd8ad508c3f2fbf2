"""QGIS projects saved in PostgreSQL: where they are, and how QGIS Server reaches them.

QGIS Server gets the connection as a libpq service in a pg_service.conf file (a secret file,
never an environment variable or a ConfigMap), and the projects as a QGIS project-storage URI
that names only that service and the schema. Layers saved with the same service name use the
same file, so no password is stored in a project.
"""
from __future__ import annotations

from dataclasses import dataclass

import pulumi

# Where the QGIS containers find the service file (PGSERVICEFILE).
SERVICE_FILE = "/etc/geostack/pg_service.conf"


@dataclass(frozen=True)
class ProjectDatabase:
    host: str
    port: int
    name: str  # the database
    schema: str  # whose qgis_projects table holds the projects
    user: str
    password: pulumi.Output[str]  # a Pulumi secret
    ssl_mode: str
    service: str  # the service's name in pg_service.conf
    refresh_seconds: int  # how often QGIS checks an open project for a newer save

    @property
    def storage_uri(self) -> str:
        """The project-storage URI of the schema, without a project: what QGIS lists projects from.
        The plugin appends `&project=<name>`, as the landing page does."""
        return f"postgresql:///?service={self.service}&schema={self.schema}"

    def service_file(self) -> pulumi.Output[str]:
        """pg_service.conf with this one service; a secret, as it holds the password."""
        def render(password: str) -> str:  # one line, as pulumi_geostack/config.py checks
            return (f"[{self.service}]\nhost={self.host}\nport={self.port}\ndbname={self.name}\n"
                    f"user={self.user}\npassword={password}\nsslmode={self.ssl_mode}\n"
                    # The image's CAs (Debian's ca-certificates); else libpq would want ~/.postgresql/root.crt.
                    + ("sslrootcert=system\n" if self.ssl_mode == "verify-full" else ""))
        return pulumi.Output.secret(self.password.apply(render))

    def qgis_env(self) -> dict[str, str]:
        """What QGIS Server and the image's plugin read. The periodic cache strategy re-reads a
        project whose save time changed; the default one watches files, which a database is not."""
        return {
            "PGSERVICEFILE": SERVICE_FILE,
            "GEOSTACK_PROJECTS_POSTGRES": self.storage_uri,
            "QGIS_SERVER_LANDING_PAGE_PROJECTS_PG_CONNECTIONS": self.storage_uri,
            "QGIS_SERVER_PROJECT_CACHE_STRATEGY": "periodic",
            "QGIS_SERVER_PROJECT_CACHE_CHECK_INTERVAL": str(self.refresh_seconds * 1000),
        }
