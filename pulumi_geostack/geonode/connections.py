"""How many PostgreSQL connections GeoNode's services can hold at once, against max_connections.

Users of the GeoNode Helm chart hit "too many clients": GeoNode's own uWSGI config lets one
Django pod grow to 128 processes, each with a connection per database. geostack counts the
worst case of every client, the rollout's extra pod included, and refuses a stack that could
exceed the server's limit (pulumi_geostack/config.py says so before anything is declared).

Each Django thread (and each Celery process) keeps a connection per database it has used:
GeoNode has two, `default` and the `datastore` of uploaded layers.
"""
from __future__ import annotations

from dataclasses import dataclass

DATABASES_PER_CLIENT = 2  # Django's `default` and `datastore`
# docker/geonode/uwsgi.ini (a unit test holds these to the file)
OWN_UWSGI_PROCESSES, OWN_UWSGI_THREADS = 4, 2
# geonode-project's src/uwsgi.ini, which upstream GeoNode images run: `processes = 128` (the
# cheaper algorithm's ceiling), one thread each
UPSTREAM_UWSGI_PROCESSES, UPSTREAM_UWSGI_THREADS = 128, 1
WORKER_CONCURRENCY, HARVESTER_CONCURRENCY = 4, 2  # Celery prefork children (pulumi_geostack/geonode/services.py)
GEOSERVER_POOL = 10  # a GeoServer PostGIS store's default "max connections"
BACKUP_CONNECTIONS = 1  # pg_dump, one database at a time
SUPERUSER_RESERVED = 3  # PostgreSQL's superuser_reserved_connections default: not for these clients
QGIS_CONNECTIONS_PER_PROCESS = 2  # a layer's database and the project lookup of the geostack_projects plugin


@dataclass(frozen=True)
class ConnectionDemand:
    """The most connections each client can hold at once."""

    django: int
    init: int
    celery: int
    geoserver: int
    backup: int
    qgis: int

    @property
    def total(self) -> int:
        return self.django + self.init + self.celery + self.geoserver + self.backup + self.qgis

    def breakdown(self) -> str:
        parts = {"Django": self.django, "the init task": self.init, "Celery": self.celery,
                 "GeoServer": self.geoserver, "the backup": self.backup, "QGIS Server": self.qgis}
        return ", ".join(f"{name} {count}" for name, count in parts.items() if count)


def django_pod_connections(upstream_image: bool) -> int:
    processes, threads = ((UPSTREAM_UWSGI_PROCESSES, UPSTREAM_UWSGI_THREADS) if upstream_image
                          else (OWN_UWSGI_PROCESSES, OWN_UWSGI_THREADS))
    return processes * threads * DATABASES_PER_CLIENT


def connection_demand(django_replicas: int, kubernetes: bool, upstream_image: bool, backups: bool,
                      qgis_processes: int = 0) -> ConnectionDemand:
    """`kubernetes`: Django rolls with one extra pod (max surge 1); Docker deletes each container
    before it creates its replacement. `qgis_processes`: QGIS Server workers, across every pod
    (the autoscaler's maximum, during a rollout too), that read projects or layers from this
    server; 0: none."""
    django_pods = django_replicas + (1 if kubernetes else 0)
    celery_processes = (WORKER_CONCURRENCY + 1) + (HARVESTER_CONCURRENCY + 1) + 1  # parents, children, beat
    return ConnectionDemand(
        django=django_pods * django_pod_connections(upstream_image),
        init=DATABASES_PER_CLIENT,
        celery=celery_processes * DATABASES_PER_CLIENT,
        geoserver=GEOSERVER_POOL,
        backup=BACKUP_CONNECTIONS if backups else 0,
        qgis=qgis_processes * QGIS_CONNECTIONS_PER_PROCESS,
    )


def most_django_replicas(max_connections: int, demand: ConnectionDemand, django_replicas: int,
                         upstream_image: bool) -> int:
    """The most Django replicas that fit, everything else as it is (0: none fits)."""
    room = max_connections - SUPERUSER_RESERVED - (demand.total - demand.django)
    per_pod = django_pod_connections(upstream_image)
    surge_pods = demand.django // per_pod - django_replicas
    return max(room // per_pod - surge_pods, 0)
