"""A project-local PostgreSQL cluster: initialised, started and stopped by the project itself.

PostgreSQL refuses to run as root, so when we are root the server binaries run as the
`postgres` system user. That user must be able to enter the cluster's folder: when the checkout
lies in a folder it cannot enter (root's mode-700 home), the cluster's files are created under the
`postgres` user's home instead and the configured folder becomes a link to them. The password of
the cluster's superuser is generated at initdb time and kept in a file beside the cluster folder
(ignored by git), never in code.

The port is NOVA_PG_PORT when set; otherwise the one the cluster remembers from its first start
(`<cluster>.port`), else 55432 when free, else any free port, so a second checkout on the same
machine gets its own server instead of PostgreSQL's "address already in use".
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "nova"
SERVER_USER = "postgres"
DEFAULT_PORT = 55432
RELOCATED = "nova-corrente"  # folder under the server user's home for clusters it cannot reach in place


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
    def port_file(self) -> Path:
        """The port chosen at first start (read when NOVA_PG_PORT is not set)."""
        return self.data_dir.parent / f"{self.data_dir.name}.port"

    @property
    def server_dir(self) -> Path:
        """Where the server's files are: `data_dir`, or the folder it links to (see the module doc)."""
        return self.data_dir.resolve()

    @property
    def log_file(self) -> Path:
        return self.server_dir.parent / f"{self.server_dir.name}.log"

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
        import psycopg  # here, not at the top: every `nova` command imports this module

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
        return ["runuser", "-u", SERVER_USER, "--", *cmd]
    return cmd


def _hand_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, user=SERVER_USER, group=SERVER_USER)


def _server_can_enter(folder: Path) -> bool:
    """Whether the user running the server can reach `folder` (search permission on it and every parent)."""
    if os.geteuid() != 0:
        return True
    return subprocess.run(_as_server_user(["test", "-x", str(folder)]), capture_output=True).returncode == 0


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nothing listens on `host`:`port` (bound as PostgreSQL and the UIs' servers bind, with SO_REUSEADDR)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def resolve_port(data_dir: Path, configured: str = "") -> int:
    """NOVA_PG_PORT when set; else the cluster's remembered port; else 55432 if free (or already ours);
    else a free port. The choice is remembered when the server starts (`ensure_running`)."""
    if configured.strip():
        return int(configured)
    port_file = LocalCluster(data_dir, DEFAULT_PORT).port_file
    try:
        return int(port_file.read_text().strip())
    except (OSError, ValueError):
        pass
    if port_is_free(DEFAULT_PORT) or LocalCluster(data_dir, DEFAULT_PORT).is_running():
        return DEFAULT_PORT
    return free_port()


def ensure_running(cluster: LocalCluster, databases: tuple[str, ...]) -> None:
    """Initialise the cluster if needed, start it if stopped, and create `databases`."""
    bindir = _bindir()
    if not cluster.is_initialised():
        _initdb(cluster, bindir)
    if not cluster.is_running():
        if _server_alive(cluster, bindir):  # left running on another port: restart on ours
            stop_server(cluster, bindir)
        if not port_is_free(cluster.port):
            raise PostgresError(
                f"port {cluster.port} on 127.0.0.1 is taken by another program (another checkout's PostgreSQL?), "
                f"so the local PostgreSQL of {cluster.data_dir} cannot start: set NOVA_PG_PORT to a free port "
                f"(e.g. NOVA_PG_PORT={free_port()}), or stop that program."
            )
        _start(cluster, bindir)
    if not cluster.port_file.exists() or cluster.port_file.read_text().strip() != str(cluster.port):
        cluster.port_file.write_text(f"{cluster.port}\n")
    import psycopg

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
    if cluster.data_dir.is_symlink() and not cluster.data_dir.exists():  # its relocated files are gone
        cluster.data_dir.unlink()
    cluster.data_dir.parent.mkdir(parents=True, exist_ok=True)
    if not _server_can_enter(cluster.data_dir.parent):
        _relocate(cluster)
    server_dir = cluster.server_dir
    server_dir.mkdir(parents=True, exist_ok=True)
    server_dir.chmod(0o700)
    _hand_to_server_user(server_dir)
    password = secrets.token_urlsafe(24)
    pwfile = server_dir.parent / f".{server_dir.name}.initdb_pw"
    pwfile.write_text(password)
    pwfile.chmod(0o600)
    _hand_to_server_user(pwfile)
    try:
        subprocess.run(
            _as_server_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(server_dir),
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


def _relocate(cluster: LocalCluster) -> None:
    """Create the cluster's folder under the server user's home and link `data_dir` to it."""
    home = Path(pwd.getpwnam(SERVER_USER).pw_dir)
    if not _server_can_enter(home):
        raise PostgresError(
            f"the {SERVER_USER} user cannot enter {cluster.data_dir.parent} (nor its home {home}), so PostgreSQL "
            f"cannot run there: set NOVA_PG_DIR to a folder it can enter, or NOVA_POSTGRES_URL to a server of your own."
        )
    tag = hashlib.sha256(str(cluster.data_dir.absolute()).encode()).hexdigest()[:10]
    target = home / RELOCATED / f"{cluster.data_dir.name}-{tag}-{secrets.token_hex(3)}"
    target.parent.mkdir(parents=True, exist_ok=True)
    _hand_to_server_user(target.parent)
    target.mkdir(mode=0o700)
    cluster.data_dir.symlink_to(target, target_is_directory=True)


def _start(cluster: LocalCluster, bindir: Path) -> None:
    cluster.log_file.touch()
    _hand_to_server_user(cluster.log_file)
    options = f"-p {cluster.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
    result = subprocess.run(
        _as_server_user(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(cluster.server_dir),
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
        _as_server_user([str(bindir / "pg_ctl"), "-D", str(cluster.server_dir), "status"]), capture_output=True
    )
    return status.returncode == 0


def stop_server(cluster: LocalCluster, bindir: Path) -> None:
    subprocess.run(
        _as_server_user([str(bindir / "pg_ctl"), "-D", str(cluster.server_dir), "-m", "fast", "-w", "stop"]),
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


def remove(cluster: LocalCluster) -> None:
    """Stop the cluster and delete its files, including a relocated folder and its link."""
    stop(cluster)
    server_dir = cluster.server_dir
    for path in (cluster.log_file, cluster.password_file, cluster.port_file):
        path.unlink(missing_ok=True)
    shutil.rmtree(server_dir, ignore_errors=True)
    if cluster.data_dir.is_symlink():
        cluster.data_dir.unlink()
