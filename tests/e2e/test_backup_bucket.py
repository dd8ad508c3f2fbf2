"""docker/backup/geostack-bucket against a real S3-compatible server (moto's, tests/e2e/s3_server.py):
upload, retention, listing, download, and what it refuses. The script runs here with this
host's boto3; the GeoNode suites run it in the backup image, through the deployed stacks."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from offline.program_run import PROJECT_ROOT
from tests.e2e.s3_server import S3Bucket, s3_bucket

SCRIPT = PROJECT_ROOT / "docker" / "backup" / "geostack-bucket"
PREFIX = "geonode/dev"
STAMPS = ("20261201T020000Z", "20261202T020000Z", "20261203T020000Z")


@pytest.fixture()
def bucket():
    with s3_bucket() as made:
        yield made


def bucket_tool(bucket: S3Bucket, *args: str, keep: int = 2, secret: str = "") -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "BACKUP_BUCKET": f"{bucket.name}/{PREFIX}", "BACKUP_BUCKET_ENDPOINT": bucket.endpoint,
           "BACKUP_BUCKET_REGION": "us-east-1", "BACKUP_BUCKET_KEEP": str(keep),
           "AWS_ACCESS_KEY_ID": bucket.access_key_id, "AWS_SECRET_ACCESS_KEY": secret or bucket.secret_access_key}
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120)


def a_backup(root: Path, stamp: str) -> Path:
    directory = root / stamp
    directory.mkdir(parents=True)
    (directory / "geonode.dump").write_bytes(os.urandom(300_000) + stamp.encode())
    (directory / "geonode_data.dump").write_bytes(stamp.encode())
    (directory / "geoserver-data.tar.gz").write_bytes(os.urandom(1000))
    return directory


def test_uploads_keep_the_newest_and_a_download_gives_back_the_same_bytes(bucket, tmp_path):
    for stamp in STAMPS:
        done = bucket_tool(bucket, "upload", str(a_backup(tmp_path / "volume", stamp)))
        assert done.returncode == 0, done.stderr
        assert f"uploaded {stamp} to s3://{bucket.name}/{PREFIX}/{stamp}/ (3 files)" in done.stdout
    # Keep 2: the oldest is gone, every file of it.
    assert bucket.keys() == sorted(f"{PREFIX}/{stamp}/{name}" for stamp in STAMPS[1:] for name in (
        "MANIFEST.json", "geonode.dump", "geonode_data.dump", "geoserver-data.tar.gz"))
    assert bucket_tool(bucket, "list").stdout.split() == [STAMPS[2], STAMPS[1]]

    restored = tmp_path / "elsewhere"
    done = bucket_tool(bucket, "download", STAMPS[1], str(restored))
    assert done.returncode == 0, done.stderr
    for name in ("geonode.dump", "geonode_data.dump", "geoserver-data.tar.gz"):
        assert (restored / STAMPS[1] / name).read_bytes() == (tmp_path / "volume" / STAMPS[1] / name).read_bytes()
    assert [p.name for p in restored.iterdir()] == [STAMPS[1]], "no partial directory is left behind"


def test_a_backup_cut_short_is_neither_listed_nor_counted_nor_downloaded(bucket, tmp_path):
    for stamp in STAMPS[:2]:
        assert bucket_tool(bucket, "upload", str(a_backup(tmp_path, stamp))).returncode == 0
    cut_short = "20261204T020000Z"  # its files went up, its manifest never did
    bucket.client().put_object(Bucket=bucket.name, Key=f"{PREFIX}/{cut_short}/geonode.dump", Body=b"half")
    assert bucket_tool(bucket, "list").stdout.split() == [STAMPS[1], STAMPS[0]]
    refused = bucket_tool(bucket, "download", cut_short, str(tmp_path / "restore"))
    assert refused.returncode != 0 and f"no whole backup {cut_short} in s3://{bucket.name}/{PREFIX}/" in refused.stderr
    assert not (tmp_path / "restore" / cut_short).exists()


def test_a_wrong_secret_fails_the_upload_loudly(bucket, tmp_path):
    refused = bucket_tool(bucket, "upload", str(a_backup(tmp_path, STAMPS[0])), secret="not-the-secret")
    assert refused.returncode != 0 and "SignatureDoesNotMatch" in refused.stderr
    assert bucket.keys() == []


def test_without_a_known_command_it_prints_its_usage():
    done = subprocess.run([sys.executable, str(SCRIPT), "restore"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "BACKUP_BUCKET": "b"})
    assert done.returncode != 0 and "geostack-bucket download <stamp> <dir>" in done.stderr
