"""GeoNode's daily backup, and the script that restores one.

Each run writes a directory named by its UTC time (20261124T020000Z) on the backup volume:
`geonode.dump` and `geonode_data.dump` (pg_dump's custom format, each made as the database's
own user, so the same commands serve geostack's PostGIS and an existing server) and
`geoserver-data.tar.gz`. A run writes into a hidden directory and renames it when everything
is in, so a listed backup is always whole; then all but the newest `keep` are deleted.
README: "Backups and restore" says how to run one now and how to restore.
"""
from __future__ import annotations

from components.geonode.env import Credentials, database_address
from components.geonode.names import DATABASE, GEODATABASE, ServiceNames
from components.geonode.postgis import POSTGRES_UID
from components.geonode.services import Volumes
from components.settings import GeoNodeBackups, GeoNodeDatabase
from components.workload import ConfigFile, DeployedWorkload, Resources, VolumeMount, Workload

# A directory both the PostGIS image and its Debian stand-in have: Docker uploads files into
# existing directories only.
SCRIPTS_DIR = "/usr/local/bin"
# PGDATA's place in the PostGIS image, owned by its postgres user: Docker gives a new named
# volume mounted there that owner, so the backup (run as that user) can write to it.
BACKUP_DIR = "/var/lib/postgresql/data"
GEOSERVER_DATA_MOUNT = "/geoserver-data"
RESOURCES = Resources(cpu_request="50m", cpu_limit="1", memory_request="128Mi", memory_limit="512Mi")

BACKUP_SCRIPT = f"""\
set -eu
stamp=$(date -u +%Y%m%dT%H%M%SZ)
partial="$BACKUP_DIR/.partial-$stamp"
mkdir -p "$partial"
PGPASSWORD="$GEONODE_DATABASE_PASSWORD" pg_dump -h "$DATABASE_HOST" -p "$DATABASE_PORT" \\
  -U "$GEONODE_DATABASE" -d "$GEONODE_DATABASE" -Fc -f "$partial/geonode.dump"
PGPASSWORD="$GEONODE_GEODATABASE_PASSWORD" pg_dump -h "$DATABASE_HOST" -p "$DATABASE_PORT" \\
  -U "$GEONODE_GEODATABASE" -d "$GEONODE_GEODATABASE" -Fc -f "$partial/geonode_data.dump"
tar -C {GEOSERVER_DATA_MOUNT} -czf "$partial/geoserver-data.tar.gz" .
mv "$partial" "$BACKUP_DIR/$stamp"
ls -1d "$BACKUP_DIR"/2* | sort -r | tail -n +$((BACKUP_KEEP + 1)) | xargs -r rm -rf
echo "backup $stamp: $(du -sh "$BACKUP_DIR/$stamp" | cut -f1)"
"""

# The dumps hold the PostGIS extension and the rows of its spatial_ref_sys table, which belong
# to the server's superuser; the restore leaves both alone (the database has them already) and
# replaces everything else in place.
RESTORE_SCRIPT = f"""\
set -eu
stamp=${{1:-${{RESTORE_FROM:?usage: geostack-restore.sh <backup> (or RESTORE_FROM=<backup>); the backups are: $(ls "$BACKUP_DIR" | tr '\\n' ' ')}}}}
dir="$BACKUP_DIR/$stamp"
test -d "$dir" || {{ echo "no backup $stamp in $BACKUP_DIR: $(ls "$BACKUP_DIR" | tr '\\n' ' ')" >&2; exit 1; }}
restore() {{  # database, its password, dump file
  list=$(mktemp)
  pg_restore -l "$3" | grep -v -e ' EXTENSION ' -e ' spatial_ref_sys ' > "$list"
  PGPASSWORD="$2" pg_restore -h "$DATABASE_HOST" -p "$DATABASE_PORT" -U "$1" -d "$1" \\
    --clean --if-exists --no-owner --single-transaction -L "$list" "$3"
  rm -f "$list"
}}
restore "$GEONODE_DATABASE" "$GEONODE_DATABASE_PASSWORD" "$dir/geonode.dump"
restore "$GEONODE_GEODATABASE" "$GEONODE_GEODATABASE_PASSWORD" "$dir/geonode_data.dump"
echo "restored both databases from $stamp; GeoServer's data dir is in $dir/geoserver-data.tar.gz"
"""


def backup(names: ServiceNames, image: str, volumes: Volumes, credentials: Credentials,
           database: GeoNodeDatabase, settings: GeoNodeBackups, after: tuple[DeployedWorkload, ...]) -> Workload:
    """The PostGIS image has pg_dump and pg_restore of the server's own version."""
    host, port = database_address(names, database)
    return Workload(
        name=names.backup,
        image=image,
        ports=(),
        env={
            "DATABASE_HOST": host,
            "DATABASE_PORT": str(port),
            "GEONODE_DATABASE": DATABASE,
            "GEONODE_GEODATABASE": GEODATABASE,
            "BACKUP_DIR": BACKUP_DIR,
            "BACKUP_KEEP": str(settings.keep),
            **({"PGSSLMODE": database.ssl_mode} if database.external else {}),
        },
        secret_env={
            "GEONODE_DATABASE_PASSWORD": credentials.database_password,
            "GEONODE_GEODATABASE_PASSWORD": credentials.geodatabase_password,
        },
        entrypoint=("sh",),
        command=(f"{SCRIPTS_DIR}/geostack-backup.sh",),
        files=(ConfigFile(f"{SCRIPTS_DIR}/geostack-backup.sh", BACKUP_SCRIPT),
               ConfigFile(f"{SCRIPTS_DIR}/geostack-restore.sh", RESTORE_SCRIPT)),
        mounts=(VolumeMount(volumes.backups, BACKUP_DIR),
                VolumeMount(volumes.geoserver_data, GEOSERVER_DATA_MOUNT, read_only=True)),
        resources=RESOURCES,
        user=POSTGRES_UID,
        fs_group=POSTGRES_UID,
        writable_paths=("/tmp",),
        daily_at=settings.time,
        after=after,
    )
