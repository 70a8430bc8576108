"""A project-local PostgreSQL cluster: initialised, started and stopped by the project itself.

PostgreSQL refuses to run as root, so when we are root the server binaries run as the
`postgres` system user. The password of the cluster's superuser is generated at initdb time
and kept in a file inside the cluster folder (ignored by git), never in code.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

SUPERUSER = "nova"


class PostgresError(RuntimeError):
    """The local PostgreSQL cluster could not be installed, initialised or started."""


@dataclass(frozen=True)
class LocalCluster:
    """A PostgreSQL cluster living in `data_dir` and listening on 127.0.0.1:`port`."""

    data_dir: Path
    port: int

    @property
    def password_file(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.password"

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def url(self, database: str) -> str:
        try:
            password = self.password_file.read_text().strip()
        except OSError as exc:
            raise PostgresError(
                f"cannot read the password of the local PostgreSQL cluster from {self.password_file}: "
                f"{exc.strerror or exc}. It was written at initdb time; restore it (mode 0600), "
                "or set NOVA_POSTGRES_URL to a server of your own."
            ) from exc
        return f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"

    def is_initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists() and self.password_file.exists()

    def is_running(self) -> bool:
        if not self.is_initialised():
            return False
        try:
            with psycopg.connect(self.url("postgres"), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False


def _bindir() -> Path:
    """Find the server binaries, installing Debian's package when they are missing."""
    found = _find_bindir()
    if found is None:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise PostgresError(
                "PostgreSQL server binaries (initdb, pg_ctl) not found and cannot be installed "
                "automatically: install PostgreSQL >= 14 or set NOVA_POSTGRES_URL to your own server."
            )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=True, env=env)
        found = _find_bindir()
        if found is None:
            raise PostgresError("installed the postgresql package but found no initdb/pg_ctl")
    return found


def _find_bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    for directory in reversed(candidates):
        if Path(directory, "pg_ctl").exists():
            return Path(directory)
    which = shutil.which("pg_ctl")
    return Path(which).resolve().parent if which else None


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _hand_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, user="postgres", group="postgres")


def ensure_running(cluster: LocalCluster, databases: tuple[str, ...]) -> None:
    """Initialise the cluster if needed, start it if stopped, and create `databases`."""
    bindir = _bindir()
    if not cluster.is_initialised():
        _initdb(cluster, bindir)
    if not cluster.is_running():
        if _server_alive(cluster, bindir):  # left running on another port: restart on ours
            stop_server(cluster, bindir)
        _start(cluster, bindir)
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        for name in databases:
            if name not in existing:
                conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))


def _initdb(cluster: LocalCluster, bindir: Path) -> None:
    if (cluster.data_dir / "PG_VERSION").exists():  # a cluster holding data: never suggest removing it
        raise PostgresError(
            f"{cluster.data_dir} holds a PostgreSQL cluster but its password file {cluster.password_file} is "
            "missing: restore it, or set NOVA_POSTGRES_URL to a server of your own."
        )
    if cluster.data_dir.exists() and any(cluster.data_dir.iterdir()):
        raise PostgresError(f"{cluster.data_dir} exists but is not a complete cluster; remove it to re-create")
    cluster.data_dir.mkdir(parents=True, exist_ok=True)
    cluster.data_dir.chmod(0o700)
    _hand_to_server_user(cluster.data_dir)
    password = secrets.token_urlsafe(24)
    pwfile = cluster.data_dir.parent / f".{cluster.data_dir.name}.initdb_pw"
    pwfile.write_text(password)
    pwfile.chmod(0o600)
    _hand_to_server_user(pwfile)
    try:
        subprocess.run(
            _as_server_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(cluster.data_dir),
                    "-U",
                    SUPERUSER,
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        raise PostgresError(f"initdb failed for {cluster.data_dir}: {exc.stderr.strip()}") from exc
    finally:
        pwfile.unlink(missing_ok=True)
    cluster.password_file.write_text(password + "\n")
    cluster.password_file.chmod(0o600)


def _start(cluster: LocalCluster, bindir: Path) -> None:
    cluster.log_file.touch()
    _hand_to_server_user(cluster.log_file)
    options = f"-p {cluster.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
    result = subprocess.run(
        _as_server_user(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(cluster.data_dir),
                "-l",
                str(cluster.log_file),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        ),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        tail = cluster.log_file.read_text(errors="replace")[-2000:]
        raise PostgresError(f"pg_ctl start failed (port {cluster.port}): {result.stderr.strip()}\n{tail}")
    deadline = time.monotonic() + 30
    while not cluster.is_running():
        if time.monotonic() > deadline:
            raise PostgresError(f"PostgreSQL on port {cluster.port} did not accept connections in 30 s")
        time.sleep(0.2)


def _server_alive(cluster: LocalCluster, bindir: Path) -> bool:
    status = subprocess.run(
        _as_server_user([str(bindir / "pg_ctl"), "-D", str(cluster.data_dir), "status"]), capture_output=True
    )
    return status.returncode == 0


def stop_server(cluster: LocalCluster, bindir: Path) -> None:
    subprocess.run(
        _as_server_user([str(bindir / "pg_ctl"), "-D", str(cluster.data_dir), "-m", "fast", "-w", "stop"]),
        check=True,
        capture_output=True,
    )


def stop(cluster: LocalCluster) -> bool:
    """Stop the cluster if it runs; return whether it was running."""
    if not cluster.is_initialised():
        return False
    bindir = _bindir()
    if not _server_alive(cluster, bindir):
        return False
    stop_server(cluster, bindir)
    return True
