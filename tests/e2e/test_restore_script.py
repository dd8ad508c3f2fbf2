"""geostack-restore.sh (pulumi_geostack/geonode/backup.py) against a real PostgreSQL with PostGIS
(tests/e2e/host_postgres.py): a restore puts the database back exactly as the backup had it,
and a restore that fails half-way changes nothing. Both of GeoNode's databases are the one
database here, so each restore step is checked on it."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from pulumi_geostack.geonode.backup import RESTORE_SCRIPT
from tests.e2e.host_postgres import PG_BIN, Database, postgis_database

STAMP = "20261207T020000Z"


@pytest.fixture()
def database():
    with postgis_database(name="geonode", user="geonode", password="geonode-test-password") as made:
        yield made


def sql(db: Database, statement: str) -> str:
    done = subprocess.run([str(PG_BIN / "psql"), db.libpq(), "-v", "ON_ERROR_STOP=1", "-tAc", statement],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def tables(db: Database) -> list[str]:
    return sql(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").split()


def a_backup(db: Database, backup_dir) -> None:
    (backup_dir / STAMP).mkdir(parents=True)
    dump = backup_dir / STAMP / "geonode.dump"
    subprocess.run([str(PG_BIN / "pg_dump"), db.libpq(), "-Fc", "-f", str(dump)], check=True, timeout=120)
    shutil.copy(dump, backup_dir / STAMP / "geonode_data.dump")


def restore(db: Database, backup_dir) -> subprocess.CompletedProcess:
    env = {"PATH": f"{PG_BIN}{os.pathsep}{os.environ['PATH']}", "BACKUP_DIR": str(backup_dir),
           "DATABASE_HOST": db.host, "DATABASE_PORT": str(db.port), "PGSSLMODE": "disable",
           "GEONODE_DATABASE": db.name, "GEONODE_GEODATABASE": db.name,
           "GEONODE_DATABASE_PASSWORD": db.password, "GEONODE_GEODATABASE_PASSWORD": db.password}
    return subprocess.run(["sh", "-c", RESTORE_SCRIPT, "geostack-restore.sh", STAMP], env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_restore_brings_back_the_backups_tables_and_drops_those_made_since(database, tmp_path):
    sql(database, "CREATE TABLE parcels AS SELECT 1 AS id, ST_GeomFromText('POINT(1 2)', 4326) AS geom")
    a_backup(database, tmp_path)
    # Since the backup: a row changed, and a newer release's migration made a table of its own.
    sql(database, "UPDATE parcels SET id = 2; CREATE TABLE made_by_a_newer_release (id serial PRIMARY KEY)")
    done = restore(database, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"restored both databases from {STAMP}" in done.stdout
    assert tables(database) == ["parcels", "spatial_ref_sys"]
    assert sql(database, "SELECT id, ST_AsText(geom) FROM parcels") == "1|POINT(1 2)"


def test_a_restore_that_fails_half_way_changes_nothing(database, tmp_path):
    # Rows enough that the dump is mostly data: cut short, its table of contents still reads,
    # and pg_restore fails only after psql has replayed the drops and part of the rest.
    sql(database, "CREATE TABLE parcels AS SELECT id, md5(id::text) AS note FROM generate_series(1, 200000) AS id")
    a_backup(database, tmp_path)
    sql(database, "CREATE TABLE made_since (id int)")
    dump = tmp_path / STAMP / "geonode.dump"
    dump.write_bytes(dump.read_bytes()[: dump.stat().st_size * 9 // 10])
    done = restore(database, tmp_path)
    assert done.returncode != 0
    assert "restoring geonode from" in done.stderr and "failed; geonode is as it was" in done.stderr
    assert tables(database) == ["made_since", "parcels", "spatial_ref_sys"]
    assert sql(database, "SELECT count(*) FROM parcels") == "200000"
