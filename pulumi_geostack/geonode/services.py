"""GeoNode's services as target-neutral Workloads: what runs, in which order, with which probes.

No docker-in-docker and nothing privileged: the seed's `dind` sidecars did no work, and
GeoNode 4.4 needs none. Migrations, fixtures and collectstatic run once per rollout in a
task, not in every Django replica; GeoServer's data directory is seeded once by a task
that never overwrites an existing catalogue.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pulumi

from pulumi_geostack.geonode.connections import HARVESTER_CONCURRENCY, WORKER_CONCURRENCY
from pulumi_geostack.geonode.env import (
    Credentials,
    DjangoOptions,
    Site,
    django_env,
    django_secret_env,
    geoserver_env,
    geoserver_secret_env,
    redis_secret_env,
)
from pulumi_geostack.geonode.names import (
    DJANGO_PORT,
    GEOSERVER_DATA_DIR,
    GEOSERVER_PORT,
    INIT_LOCK,
    NGINX_PORT,
    REDIS_DATA_DIR,
    REDIS_PORT,
    STATICS_DIR,
    UPLOADED_DATA_DIR,
    ServiceNames,
)
from pulumi_geostack.nginx_conf import METRICS_PATH, STATUS_PORT, nginx_size_bytes
from pulumi_geostack.settings import GeoNodeDatabase
from pulumi_geostack.settings_types import parse_quantity
from pulumi_geostack.workload import (
    CommandCheck,
    ConfigFile,
    DeployedWorkload,
    Exposure,
    HttpCheck,
    Metrics,
    Port,
    Probe,
    Resources,
    TcpCheck,
    Volume,
    VolumeMount,
    Workload,
)

DJANGO_PRE_STOP_SECONDS = 5
REDIS_UID, REDIS_GID = 999, 1000  # the redis user of the Alpine-based image
NGINX_UID = 10101  # any UID works: geostack's config keeps nginx's files in /tmp


def java_heap(memory_limit: str) -> str:
    """-Xmx for a JVM in a container: 70% of its memory limit, leaving room for metaspace and threads."""
    return f"{int(parse_quantity(memory_limit, 'memory') * 7 // 10 // 2**20)}m"


def upload_scratch(upload_size: str) -> str:
    """Django's /tmp: uploads larger than 2.5 MB are spooled there, so it holds two at the
    largest allowed size (a retry beside a failed one) plus room for GeoNode's own temp files."""
    return f"{2 * nginx_size_bytes(upload_size) // 2**20 + 256}Mi"

# The seed task only copies files; it needs little whatever the stack's sizes.
SEED_RESOURCES = Resources("50m", "500m", "64Mi", "256Mi")

NGINX_CONFIG_PATH = "/etc/nginx/nginx.conf"
SEED_MOUNT = "/mnt/geoserver-data"
SEED_MARKER = ".geostack-initialised"


@dataclass(frozen=True)
class Volumes:
    database: Optional[Volume]  # None: the databases live on an existing server
    broker: Volume
    geoserver_data: Volume
    statics: Volume
    data: Volume
    backups: Optional[Volume]  # None: backups are off

    def app_mounts(self, statics_read_only: bool = False) -> tuple[VolumeMount, ...]:
        """What Django, Celery and GeoServer share (GeoNode's compose mounts the same three)."""
        return (
            VolumeMount(self.statics, STATICS_DIR, read_only=statics_read_only),
            VolumeMount(self.geoserver_data, GEOSERVER_DATA_DIR),
            VolumeMount(self.data, UPLOADED_DATA_DIR),
        )


def seed_script(source: str, target: str) -> str:
    """Copy GeoServer's initial data directory into an empty volume, once.

    Re-running is safe: a marker stops it, cp -n never overwrites a file, and a volume
    that already holds a catalogue (but no marker) is left untouched.
    """
    return (
        "set -eu\n"
        f'if [ -e "{target}/{SEED_MARKER}" ]; then echo "GeoServer data directory already initialised"; exit 0; fi\n'
        f'if [ -n "$(ls -A "{target}")" ]; then\n'
        f'  echo "GeoServer data directory is not empty; leaving the existing catalogue alone"\n'
        "else\n"
        f'  cp -Rn "{source}/." "{target}/"\n'
        "fi\n"
        f'date > "{target}/{SEED_MARKER}"\n'
    )


# GeoNode 4.4's entrypoint.sh without the parts that don't belong in a one-shot task
# (cron, waiting for nginx): migrate both databases, write the OAuth and site fixtures,
# load fixtures and the admin user on first run only, then collect static files.
INIT_SCRIPT = f"""set -eu
cd /usr/src/geonode
invoke migrations
invoke prepare
if [ ! -e "{INIT_LOCK}" ]; then
  invoke fixtures
  invoke initialized
  invoke updateadmin
fi
invoke statics
"""

CELERY_APP = ("-A", "geonode.celery_app:app")
# GeoNode 5 runs three Celery processes: workers for its queues, a worker for the harvesting
# queue (long remote-catalogue jobs must not hold up uploads), and one beat scheduler.
HARVESTING_QUEUE = "harvesting"
BEAT_COMMAND = (*CELERY_APP, "beat", "--schedule=/tmp/celerybeat-schedule", "--pidfile=", "--loglevel=INFO")


def _worker_command(node: str, queues: tuple[str, ...], concurrency: int) -> tuple[str, ...]:
    return (*CELERY_APP, "worker", "--without-gossip", "--without-mingle", "-Ofair", "-E", *queues,
            "-n", f"{node}@%h", f"--concurrency={concurrency}", "--max-tasks-per-child=10", "--loglevel=INFO")


def _ping(node: str) -> tuple[str, ...]:
    return ("sh", "-c", f"celery {' '.join(CELERY_APP)} inspect ping --timeout 10 -d {node}@$HOSTNAME")


# Appendonly: queued tasks survive a restart. The password comes from the environment so it
# never appears in the container's command line or the pod spec.
REDIS_SCRIPT = f'exec redis-server --dir {REDIS_DATA_DIR} --appendonly yes --requirepass "$REDIS_PASSWORD"'
REDIS_PING = ("sh", "-c", 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG')


def broker(names: ServiceNames, image: str, volumes: Volumes, credentials: Credentials,
           resources: Resources) -> Workload:
    """Redis, Celery's broker since GeoNode 5. Unlike RabbitMQ it writes only its data dir,
    so the root filesystem stays read-only, and it keeps no per-hostname state."""
    return Workload(
        name=names.broker,
        image=image,
        ports=(Port("redis", REDIS_PORT),),
        entrypoint=("sh", "-c"),
        command=(REDIS_SCRIPT,),
        secret_env=redis_secret_env(credentials),
        mounts=(VolumeMount(volumes.broker, REDIS_DATA_DIR),),
        liveness=Probe(TcpCheck(REDIS_PORT), initial_delay_seconds=10, period_seconds=20),
        readiness=Probe(CommandCheck(REDIS_PING), initial_delay_seconds=2, period_seconds=10),
        resources=resources,
        allow_from=names.broker_clients,
        user=REDIS_UID,
        fs_group=REDIS_GID,
        writable_paths=("/tmp",),
        singleton=True,
    )


def geoserver_seed(names: ServiceNames, image: str, volumes: Volumes) -> Workload:
    return Workload(
        name=names.seed,
        image=image,
        ports=(),
        entrypoint=("sh", "-c"),
        command=(seed_script(GEOSERVER_DATA_DIR, SEED_MOUNT),),
        # Mounted beside, not over, the image's own copy of the data directory.
        mounts=(VolumeMount(volumes.geoserver_data, SEED_MOUNT),),
        resources=SEED_RESOURCES,
        task=True,
    )


@dataclass(frozen=True)
class DjangoImage:
    """What Django, Celery and the init task run: geostack's build of docker/geonode, or another image."""

    ref: pulumi.Input[str]
    own: bool


OWN_IMAGE_UID = 10002  # docker/geonode's user and group

# For geostack's image, which has no geonode-project `invoke` tasks: migrate both databases,
# collect static files, then set up the admin, the site and GeoServer's OAuth2 client
# (site_setup.py), so a changed admin password or OAuth2 secret applies on the next rollout.
SITE_SETUP = (Path(__file__).parent / "site_setup.py").read_text()
OWN_INIT_SCRIPT = f"""set -eu
django-admin migrate --noinput
django-admin migrate --noinput --database datastore
django-admin collectstatic --noinput
python - <<'SITE_SETUP'
{SITE_SETUP}
SITE_SETUP
"""


def _django_like(names: ServiceNames, image: DjangoImage, site: Site, options: DjangoOptions,
                 credentials: Credentials, celery: bool) -> dict:
    common = dict(
        image=image.ref,
        env=django_env(names, site, options, celery=celery, own_image=image.own),
        secret_env=django_secret_env(names, credentials, options.database),
        writable_paths=("/tmp",),
        scratch_size=upload_scratch(site.upload_size),
    )
    if image.own:  # non-root, read-only root; it writes only to /tmp and its volumes
        return {**common, "user": OWN_IMAGE_UID, "fs_group": OWN_IMAGE_UID}
    # GeoNode's upstream image runs as root and writes into itself (fixtures in /tmp, logs, ~/.override_env).
    return {**common, "read_only_root": False}


def init_task(names: ServiceNames, image: DjangoImage, site: Site, options: DjangoOptions, credentials: Credentials,
              volumes: Volumes, resources: Resources, after: tuple[DeployedWorkload, ...],
              timeout_minutes: int = 0) -> Workload:
    """`timeout_minutes`: how long the first run (every migration) may take; 0: the target's default."""
    return Workload(
        name=names.init,
        ports=(),
        entrypoint=("bash", "-c"),
        command=(OWN_INIT_SCRIPT if image.own else INIT_SCRIPT,),
        mounts=volumes.app_mounts(),
        resources=resources,
        after=after,
        task=True,
        ready_timeout_minutes=timeout_minutes,
        **_django_like(names, image, site, options, credentials, celery=False),
    )


def django(names: ServiceNames, image: DjangoImage, site: Site, options: DjangoOptions, credentials: Credentials,
           volumes: Volumes, replicas: int, resources: Resources, after: tuple[DeployedWorkload, ...],
           timeout_minutes: int = 0) -> Workload:
    return Workload(
        name=names.django,
        ports=(Port("http", DJANGO_PORT),),
        # geostack's image starts uwsgi with its own ini by default.
        entrypoint=None if image.own else ("uwsgi",),
        command=None if image.own else ("--ini", "/usr/src/geonode/uwsgi.ini", "--logto", "/dev/stdout"),
        mounts=volumes.app_mounts(),
        # Restart only if uwsgi stops accepting connections; take out of rotation as soon as
        # pages fail. The Host header must be one Django's ALLOWED_HOSTS accepts.
        liveness=Probe(TcpCheck(DJANGO_PORT), initial_delay_seconds=60, period_seconds=20, failure_threshold=6),
        readiness=Probe(HttpCheck("/", DJANGO_PORT, host=names.django),
                        initial_delay_seconds=30, period_seconds=15, timeout_seconds=10),
        replicas=replicas,
        resources=resources,
        # Keep serving while the Service drops the old pod during a rollout; without the wait a
        # credential rollout on a real cluster answered 1 of 225 page requests with 502
        # (tests/kubernetes/test_staging_geonode.py), as QGIS Server did before its wait.
        pre_stop_seconds=DJANGO_PRE_STOP_SECONDS,
        termination_grace_seconds=DJANGO_PRE_STOP_SECONDS + 30,
        # GeoServer authenticates GeoNode users against Django.
        allow_from=(names.nginx, names.geoserver),
        after=after,
        ready_timeout_minutes=timeout_minutes,
        **_django_like(names, image, site, options, credentials, celery=False),
    )


def _celery(name: str, command: tuple[str, ...], readiness: Probe | None, singleton: bool, names: ServiceNames,
            image: DjangoImage, site: Site, options: DjangoOptions, credentials: Credentials, volumes: Volumes,
            resources: Resources, after: tuple[DeployedWorkload, ...], surge: bool = True) -> Workload:
    return Workload(
        name=name,
        ports=(),
        entrypoint=("celery",),
        command=command,
        mounts=volumes.app_mounts(),
        # No liveness probe: a ping loads a whole GeoNode process and fails whenever the broker
        # is down, so it restarted healthy workers during broker outages. Celery reconnects by
        # itself, and a worker that dies exits, which restarts the container anyway. Readiness
        # (which never restarts anything) tells a rollout when the new worker consumes.
        readiness=readiness,
        resources=resources,
        singleton=singleton,
        surge=surge,
        after=after,
        **_django_like(names, image, site, options, credentials, celery=True),
    )


def celery_workers(names: ServiceNames, image: DjangoImage, site: Site, options: DjangoOptions,
                   credentials: Credentials, volumes: Volumes, resources: Resources,
                   after: tuple[DeployedWorkload, ...]) -> tuple[Workload, ...]:
    """The worker for every queue but harvesting, the harvesting worker, and beat (exactly one).

    The workers roll without a surge pod: their tasks wait in Redis while one restarts (the
    Docker test checks that a queued task survives), and a rollout of GeoNode then needs spare
    CPU for Django's surge pod and the init task only, which fits on a two-core node."""
    shared = dict(names=names, image=image, site=site, options=options, credentials=credentials,
                  volumes=volumes, after=after)
    return (
        _celery(names.celery, _worker_command("worker", ("-X", HARVESTING_QUEUE), WORKER_CONCURRENCY),
                Probe(CommandCheck(_ping("worker")), initial_delay_seconds=30, period_seconds=60, timeout_seconds=30),
                singleton=False, resources=resources, surge=False, **shared),
        _celery(names.harvester, _worker_command("harvester", ("-Q", HARVESTING_QUEUE), HARVESTER_CONCURRENCY),
                Probe(CommandCheck(_ping("harvester")), initial_delay_seconds=30, period_seconds=60,
                      timeout_seconds=30),
                singleton=False, resources=resources, surge=False, **shared),
        # Two schedulers would send every periodic task twice; beat answers no ping.
        _celery(names.beat, BEAT_COMMAND, None, singleton=True, resources=beat_resources(resources), **shared),
    )


def beat_resources(celery: Resources) -> Resources:
    """Beat only sends the periodic tasks (at rest on the test cluster: under 1m CPU, 190 MiB),
    so it reserves a fifth of a worker's CPU and a quarter of its memory, within the same limits."""
    return Resources(cpu_request="50m", memory_request="256Mi", cpu_limit=celery.cpu_limit,
                     memory_limit=celery.memory_limit)


def geoserver(names: ServiceNames, image: str, site: Site, database: GeoNodeDatabase, credentials: Credentials,
              volumes: Volumes, resources: Resources, after: tuple[DeployedWorkload, ...]) -> Workload:
    return Workload(
        name=names.geoserver,
        image=image,
        ports=(Port("http", GEOSERVER_PORT),),
        env=geoserver_env(names, site, java_heap(resources.memory_limit), database),
        secret_env=geoserver_secret_env(credentials),
        mounts=volumes.app_mounts(),
        # Tomcat is slow to start: alive while it accepts connections, ready once OWS answers.
        liveness=Probe(TcpCheck(GEOSERVER_PORT), initial_delay_seconds=120, period_seconds=30, failure_threshold=5),
        readiness=Probe(HttpCheck("/geoserver/ows", GEOSERVER_PORT),
                        initial_delay_seconds=60, period_seconds=20, timeout_seconds=10),
        resources=resources,
        allow_from=(names.nginx, names.django, names.celery, names.init),
        # GeoServer's entrypoint runs as root and rewrites its web.xml and security config at start.
        read_only_root=False,
        writable_paths=("/tmp",),
        # Its data directory is not safe for two writers.
        singleton=True,
        after=after,
    )


def nginx(names: ServiceNames, image: str, config: pulumi.Input[str], volumes: Volumes, exposure: Exposure,
          resources: Resources, after: tuple[DeployedWorkload, ...]) -> Workload:
    return Workload(
        name=names.nginx,
        image=image,
        ports=(Port("http", NGINX_PORT),),
        # geostack's rendered config replaces the image's envsubst entrypoint.
        entrypoint=("nginx",),
        command=("-c", NGINX_CONFIG_PATH, "-e", "stderr", "-g", "daemon off;"),
        files=(ConfigFile(NGINX_CONFIG_PATH, config),),
        mounts=(VolumeMount(volumes.statics, STATICS_DIR, read_only=True),),
        liveness=Probe(TcpCheck(NGINX_PORT)),
        readiness=Probe(HttpCheck("/healthz", NGINX_PORT), initial_delay_seconds=2, period_seconds=5),
        resources=resources,
        user=NGINX_UID,
        writable_paths=("/tmp",),
        pre_stop_seconds=5,
        termination_grace_seconds=35,
        expose=exposure,
        after=after,
        metrics=Metrics(STATUS_PORT, METRICS_PATH),
    )
