"""A private PostgreSQL with PostGIS on loopback, from Debian's packages, for the tests.

The cluster lives in a scratch dir owned by the `postgres` user (the server refuses to run as
root), listens on 127.0.0.1 at a free port with password logins only, and holds one database
with PostGIS, owned by one user. It is stopped and deleted afterwards, pass or fail.
"""
from __future__ import annotations

import contextlib
import glob
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from offline.loopback import free_port, scratch_dir

PG_BIN = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]) if glob.glob("/usr/lib/postgresql/*/bin") else None


@dataclass(frozen=True)
class Database:
    host: str
    port: int
    name: str
    user: str
    password: str

    def libpq(self) -> str:
        return (f"host={self.host} port={self.port} dbname={self.name} user={self.user} "
                f"password={self.password} sslmode=disable")


def _as_postgres(*command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True,
                          text=True, **kwargs)


@contextlib.contextmanager
def postgis_database(name: str = "maps", user: str = "gis", password: str = "gis-test-password") -> Iterator[Database]:
    assert PG_BIN, "PostgreSQL is not installed (scripts/test.sh installs it)"
    with scratch_dir("geostack-postgres-") as scratch:
        data = scratch / "data"
        shutil.chown(scratch, "postgres", "postgres")
        port = free_port()
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
                     "--auth-host=scram-sha-256")
        options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={scratch}"
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(scratch / "server.log"),
                     "-o", options, "start")
        try:
            sql = (f"CREATE ROLE {user} LOGIN PASSWORD '{password}';\n"
                   f"CREATE DATABASE {name} OWNER {user};\n"
                   f"\\c {name}\nCREATE EXTENSION postgis;\n")
            _as_postgres(str(PG_BIN / "psql"), "-v", "ON_ERROR_STOP=1", "-q", "-h", str(scratch), "-p", str(port),
                         "-U", "postgres", input=sql)
            yield Database("127.0.0.1", port, name, user, password)
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):
                _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-m", "immediate", "stop")
