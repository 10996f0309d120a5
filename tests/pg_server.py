"""A throw-away PostgreSQL + PostGIS server for the tests (Debian's packages).

`initdb` / `pg_ctl` in a temporary folder, listening on a free port of 127.0.0.1 only,
run as the ``postgres`` system user when the tests run as root (CI does; PostgreSQL
refuses to run as root). Password authentication over TCP, so the tests exercise real
credentials; stopped and deleted at the end of the session. Under ``CI=true`` a missing
PostgreSQL or PostGIS fails the tests instead of skipping them (scripts/test installs
both).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "gis_test"
PASSWORD = "s3cret-Not-Printed"
DATABASE = "gis_test"


@dataclass(frozen=True)
class Server:
    port: int
    folder: Path

    def url(self, *, password: bool = True, user: str = USER, database: str = DATABASE) -> str:
        cred = f"{user}:{PASSWORD}@" if password else f"{user}@"
        return f"postgresql://{cred}127.0.0.1:{self.port}/{database}"


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostGIS tests cannot run: {why} (scripts/test installs postgresql and "
                    "postgis with apt-get)")
    pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server() -> tuple[Server, callable]:
    initdb, pg_ctl, psql = _bin("initdb"), _bin("pg_ctl"), _bin("psql")
    if not (initdb and pg_ctl and psql):
        _unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found")
    version = Path(initdb).parents[1].name  # /usr/lib/postgresql/<version>/bin/initdb
    if not glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"):
        _unavailable("the PostGIS extension is not installed")
    as_root = os.geteuid() == 0
    run_as: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="gis-pg-"))
    if as_root:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("no 'postgres' system user to run the server as")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, sock = folder / "data", folder
    port = _free_port()

    def run(*cmd: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([*run_as, *cmd], check=True, capture_output=True, text=True,
                              timeout=120, **kw)

    pwfile = folder / "pw"
    pwfile.write_text("postgres-local-only\n")
    if as_root:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    run(initdb, "-D", str(data), "-U", "postgres", "-E", "UTF8", "--locale=C",
        "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}")
    run(pg_ctl, "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "60",
        "-o", f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def sql(statement: str, db: str = "postgres") -> None:
        run(psql, "-h", str(sock), "-p", str(port), "-U", "postgres", "-d", db,
            "-v", "ON_ERROR_STOP=1", "-qc", statement)

    def stop() -> None:
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)

    try:
        sql(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
        sql(f"CREATE DATABASE {DATABASE} OWNER {USER}")
        sql("CREATE EXTENSION postgis", DATABASE)
        sql("CREATE DATABASE no_postgis")
    except subprocess.CalledProcessError as err:
        stop()
        raise RuntimeError(f"setting up the test server failed: {err.stderr}") from err
    return Server(port, folder), stop
