"""GeoNode's PostGIS as a Workload, and how a changed database password reaches a database
that already exists.

The PostGIS image reads POSTGRES_PASSWORD and the GeoNode users' passwords only when it
initialises an empty data directory; on every later start they are ignored, so a password
changed in the config would lock Django out of its own database. The container therefore
starts the image's entrypoint in the background and, once the real server listens on TCP (the
entrypoint's first-run server listens on the socket only), sets the three roles' passwords
from its environment over the local socket, which the image trusts. The pod is Ready only
after that, so nothing connects with a new password before it holds.
"""
from __future__ import annotations

from pulumi_geostack.geonode.env import Credentials, postgis_env, postgis_secret_env
from pulumi_geostack.geonode.names import POSTGRES_DATA_DIR, POSTGRES_PORT, ServiceNames
from pulumi_geostack.geonode.services import Volumes
from pulumi_geostack.settings_types import parse_quantity
from pulumi_geostack.workload import CommandCheck, Port, Probe, Resources, VolumeMount, Workload

POSTGRES_UID = 70  # the postgres user of the Alpine-based PostGIS image
PASSWORDS_SET = "/tmp/geostack-passwords-set"  # written once this container's passwords hold

def postgres_script(max_connections: int) -> str:
    """The container's command: PostgreSQL with `max_connections`, and the passwords set.

    psql's \\getenv reads each password from the environment, so none is on a command line.
    SIGTERM and SIGINT become SIGINT, PostgreSQL's fast shutdown (the image's STOPSIGNAL)."""
    return f"""\
docker-entrypoint.sh postgres -c max_connections={max_connections} &
server=$!
trap 'kill -INT $server 2>/dev/null' TERM INT
until pg_isready -q -h 127.0.0.1 -U postgres; do
  kill -0 $server 2>/dev/null || break
  sleep 1
done
if kill -0 $server 2>/dev/null; then
  psql -v ON_ERROR_STOP=1 -q -h /var/run/postgresql -U postgres -d postgres <<'SQL' && touch {PASSWORDS_SET}
\\getenv password POSTGRES_PASSWORD
ALTER ROLE postgres PASSWORD :'password';
\\getenv role GEONODE_DATABASE_USER
\\getenv password GEONODE_DATABASE_PASSWORD
ALTER ROLE :"role" PASSWORD :'password';
\\getenv role GEONODE_GEODATABASE_USER
\\getenv password GEONODE_GEODATABASE_PASSWORD
ALTER ROLE :"role" PASSWORD :'password';
SQL
fi
wait $server
status=$?
while kill -0 $server 2>/dev/null; do wait $server; status=$?; done  # a signal ended the wait
exit $status
"""


def postgres_shm(memory_limit: str) -> str:
    """/dev/shm for PostgreSQL: a quarter of its memory limit. Parallel queries allocate their
    shared memory there, and Docker's default 64 MiB fails them ("could not resize shared memory
    segment") on real GeoNode layers."""
    return f"{int(parse_quantity(memory_limit, 'memory') // 4 // 2**20)}Mi"


def database(names: ServiceNames, image: str, volumes: Volumes, credentials: Credentials,
             resources: Resources, max_connections: int, guests: tuple[str, ...] = ()) -> Workload:
    """PostGIS, reachable by GeoNode's services and by `guests` (QGIS Server, for projects saved there)."""
    accepting = ("pg_isready", "-U", "postgres", "-h", "127.0.0.1")
    return Workload(
        name=names.database,
        image=image,
        ports=(Port("postgres", POSTGRES_PORT),),
        env=postgis_env(),
        secret_env=postgis_secret_env(credentials),
        entrypoint=("sh", "-c"),
        command=(postgres_script(max_connections),),
        mounts=(VolumeMount(volumes.database, POSTGRES_DATA_DIR),),
        liveness=Probe(CommandCheck(accepting), initial_delay_seconds=30, period_seconds=30, failure_threshold=6),
        readiness=Probe(CommandCheck(("sh", "-c", f"{' '.join(accepting)} && test -e {PASSWORDS_SET}")),
                        initial_delay_seconds=5, period_seconds=10),
        resources=resources,
        allow_from=names.database_clients + guests,
        user=POSTGRES_UID,
        fs_group=POSTGRES_UID,
        writable_paths=("/var/run/postgresql", "/tmp"),
        shm_size=postgres_shm(resources.memory_limit),
        singleton=True,
    )
