"""GeoNode's daily backup, and the script that restores one.

Each run writes a directory named by its UTC time (20261124T020000Z) on the backup volume:
`geonode.dump` and `geonode_data.dump` (pg_dump's custom format, each made as the database's
own user, so the same commands serve geostack's PostGIS and an existing server) and
`geoserver-data.tar.gz`. A run writes into a hidden directory and renames it when everything
is in, so a listed backup is always whole; then all but the newest `keep` are deleted.
With a bucket configured, each backup then goes to S3 too (docker/backup/geostack-bucket), and
a restore takes a backup the volume no longer has from there.
docs/operations.md, "Backups and restore", says how to run one now and how to restore.
"""
from __future__ import annotations

import pulumi

from pulumi_geostack.geonode.env import Credentials, database_address
from pulumi_geostack.geonode.names import DATABASE, GEODATABASE, ServiceNames
from pulumi_geostack.geonode.postgis import POSTGRES_UID
from pulumi_geostack.geonode.services import Volumes
from pulumi_geostack.settings import BackupBucket, GeoNodeBackups, GeoNodeDatabase
from pulumi_geostack.workload import ConfigFile, DeployedWorkload, Resources, VolumeMount, Workload

# A directory docker/backup has: Docker uploads files into existing directories only.
SCRIPTS_DIR = "/usr/local/bin"
# PGDATA's place in the PostGIS image, which made the backups before geostack had its own
# image; docker/backup has it too, owned by the same postgres user: Docker gives a new named
# volume mounted there that owner, so the backup (run as that user) can write to it.
BACKUP_DIR = "/var/lib/postgresql/data"
# EKS's pod identity webhook gives the pods of a ServiceAccount annotated so this IAM role.
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
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
if [ -n "${{BACKUP_BUCKET:-}}" ]; then geostack-bucket upload "$BACKUP_DIR/$stamp"; fi
"""

LIST_SCRIPT = """\
set -eu
echo "on the volume: $(ls "$BACKUP_DIR" | tr '\\n' ' ')"
if [ -n "${BACKUP_BUCKET:-}" ]; then echo "in s3://$BACKUP_BUCKET: $(geostack-bucket list | tr '\\n' ' ')"; fi
"""

# Before the dump is replayed, the restore drops every table of the database's user that the
# dump may not have (a newer GeoNode's, made by its migrations): a database put back under an
# older release must not keep them, or the next upgrade's migrations would fail on them.
DROP_OWN_TABLES = """DO $$DECLARE own text; BEGIN
  FOR own IN SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
             WHERE schemaname = 'public' AND tableowner = current_user LOOP
    EXECUTE 'DROP TABLE IF EXISTS ' || own || ' CASCADE';
  END LOOP;
END$$;"""

# The dumps hold the PostGIS extension and the rows of its spatial_ref_sys table, which belong
# to the server's superuser; the restore leaves both alone (the database has them already) and
# replaces everything else: in one transaction per database, so a failed restore changes nothing.
RESTORE_SCRIPT = f"""\
set -eu
stamp=${{1:-${{RESTORE_FROM:-}}}}
test -n "$stamp" || {{ echo "usage: geostack-restore.sh <backup> (or RESTORE_FROM=<backup>); the backups are" >&2; sh {SCRIPTS_DIR}/geostack-list-backups.sh >&2; exit 1; }}
dir="$BACKUP_DIR/$stamp"
if [ ! -d "$dir" ] && [ -n "${{BACKUP_BUCKET:-}}" ]; then geostack-bucket download "$stamp" "$BACKUP_DIR"; fi
test -d "$dir" || {{ echo "no backup $stamp" >&2; sh {SCRIPTS_DIR}/geostack-list-backups.sh >&2; exit 1; }}
restore() {{  # database, its password, dump file
  list=$(mktemp)
  pg_restore -l "$3" | grep -v -e ' EXTENSION ' -e ' spatial_ref_sys ' > "$list"
  # COMMIT is sent only after pg_restore has written the whole dump: if it fails half-way, psql
  # ends inside the transaction, which PostgreSQL then rolls back (sh has no pipefail to tell).
  result=$({{ echo "BEGIN;"; cat <<'SQL'
{DROP_OWN_TABLES}
SQL
    pg_restore --clean --if-exists --no-owner -L "$list" -f - "$3" && echo "COMMIT; SELECT 'restore committed';"
  }} | PGPASSWORD="$2" psql -h "$DATABASE_HOST" -p "$DATABASE_PORT" -U "$1" -d "$1" \\
    -v ON_ERROR_STOP=1 --quiet --tuples-only --no-align -f - | tail -n 1)
  rm -f "$list"
  test "$result" = "restore committed" || {{ echo "restoring $1 from $3 failed; $1 is as it was" >&2; exit 1; }}
}}
restore "$GEONODE_DATABASE" "$GEONODE_DATABASE_PASSWORD" "$dir/geonode.dump"
restore "$GEONODE_GEODATABASE" "$GEONODE_GEODATABASE_PASSWORD" "$dir/geonode_data.dump"
echo "restored both databases from $stamp; GeoServer's data dir is in $dir/geoserver-data.tar.gz"
"""


def _bucket_env(bucket: BackupBucket | None) -> tuple[dict[str, str], dict[str, pulumi.Output[str]]]:
    """geostack-bucket's settings, and its access key as secrets (none with a role)."""
    if bucket is None:
        return {}, {}
    env = {"BACKUP_BUCKET": bucket.name, "BACKUP_BUCKET_REGION": bucket.region,
           "BACKUP_BUCKET_KEEP": str(bucket.keep),
           **({"BACKUP_BUCKET_ENDPOINT": bucket.endpoint} if bucket.endpoint else {})}
    if not bucket.access_key_id:
        return env, {}
    return env, {"AWS_ACCESS_KEY_ID": pulumi.Output.secret(bucket.access_key_id),
                 "AWS_SECRET_ACCESS_KEY": bucket.secret_access_key}


def backup(names: ServiceNames, image: pulumi.Input[str], volumes: Volumes, credentials: Credentials,
           database: GeoNodeDatabase, settings: GeoNodeBackups, after: tuple[DeployedWorkload, ...]) -> Workload:
    """docker/backup: pg_dump and pg_restore of PostgreSQL 15 (geostack's PostGIS) and geostack-bucket."""
    host, port = database_address(names, database)
    bucket_env, bucket_secrets = _bucket_env(settings.bucket)
    role = settings.bucket.role_arn if settings.bucket else ""
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
            **bucket_env,
        },
        secret_env={
            "GEONODE_DATABASE_PASSWORD": credentials.database_password,
            "GEONODE_GEODATABASE_PASSWORD": credentials.geodatabase_password,
            **bucket_secrets,
        },
        service_account_annotations={IRSA_ANNOTATION: role} if role else {},
        entrypoint=("sh",),
        command=(f"{SCRIPTS_DIR}/geostack-backup.sh",),
        files=(ConfigFile(f"{SCRIPTS_DIR}/geostack-backup.sh", BACKUP_SCRIPT),
               ConfigFile(f"{SCRIPTS_DIR}/geostack-restore.sh", RESTORE_SCRIPT),
               ConfigFile(f"{SCRIPTS_DIR}/geostack-list-backups.sh", LIST_SCRIPT)),
        mounts=(VolumeMount(volumes.backups, BACKUP_DIR),
                VolumeMount(volumes.geoserver_data, GEOSERVER_DATA_MOUNT, read_only=True)),
        resources=RESOURCES,
        user=POSTGRES_UID,
        fs_group=POSTGRES_UID,
        writable_paths=("/tmp",),
        daily_at=settings.time,
        after=after,
    )
