"""Service names, ports and paths GeoNode 5.1's services expect (from geonode-project's compose file)."""
from __future__ import annotations

from dataclasses import dataclass

DJANGO_PORT = 8000  # uwsgi http-socket
GEOSERVER_PORT = 8080  # Tomcat
POSTGRES_PORT = 5432
REDIS_PORT = 6379
NGINX_PORT = 8080  # unprivileged: geostack's config, not the image's port 80

STATICS_DIR = "/mnt/volumes/statics"
STATIC_ROOT = f"{STATICS_DIR}/static/"
MEDIA_ROOT = f"{STATICS_DIR}/uploaded/"
ASSETS_ROOT = f"{STATICS_DIR}/assets/"
GEOSERVER_DATA_DIR = "/geoserver_data/data"
UPLOADED_DATA_DIR = "/data"
POSTGRES_DATA_DIR = "/var/lib/postgresql/data"
REDIS_DATA_DIR = "/data"  # inside the Redis container only
INIT_LOCK = f"{STATICS_DIR}/geonode_init.lock"  # written by GeoNode's `invoke initialized`

DATABASE = "geonode"
GEODATABASE = "geonode_data"  # GeoNode's init script expects each user named as its database
# Both init tasks make this user the admin: geostack's reads it from ADMIN_USERNAME; the upstream
# image's `invoke updateadmin` hard-codes the same name.
ADMIN_USER = "admin"


# The GeoNode component's name in the program: its services' names derive from it.
COMPONENT = "geonode"


@dataclass(frozen=True)
class ServiceNames:
    """DNS names of GeoNode's services, derived from the component name."""

    nginx: str
    django: str
    celery: str
    geoserver: str
    database: str
    broker: str

    @property
    def beat(self) -> str:
        return f"{self.celery}-beat"

    @property
    def harvester(self) -> str:
        return f"{self.celery}-harvester"

    @property
    def init(self) -> str:
        return f"{self.django}-init"

    @property
    def seed(self) -> str:
        return f"{self.geoserver}-data-init"

    @property
    def backup(self) -> str:
        return f"{self.nginx}-backup"

    @property
    def database_clients(self) -> tuple[str, ...]:
        """GeoNode's own services and its backups: the only ones that may reach PostGIS."""
        return (self.django, self.celery, self.beat, self.harvester, self.init, self.geoserver, self.backup)

    @property
    def broker_clients(self) -> tuple[str, ...]:
        """Who queues or runs Celery tasks: the only ones that may reach Redis."""
        return (self.django, self.celery, self.beat, self.harvester, self.init)

    @classmethod
    def for_component(cls, name: str) -> "ServiceNames":
        return cls(nginx=name, django=f"{name}-django", celery=f"{name}-celery",
                   geoserver=f"{name}-geoserver", database=f"{name}-db", broker=f"{name}-redis")


def postgis_host() -> str:
    """The name the stack's other workloads reach GeoNode's PostGIS by (a Service, a network alias)."""
    return ServiceNames.for_component(COMPONENT).database
