"""First start of the project-local PostgreSQL (issue 16, item 8): from a folder the `postgres` user
cannot enter (a mode-700 home, as root's is), and beside another server on the default port."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from nova_assets.services import postgres_server
from nova_assets.services.postgres_server import (
    LocalCluster,
    PostgresError,
    ensure_running,
    free_port,
    remove,
    resolve_port,
)


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port some other program listens on (as another checkout's server would on 55432)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.fixture
def private_checkout(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    home.chmod(0o700)  # whatever the umask
    checkout = home / "nova-corrente"
    yield checkout
    remove(LocalCluster(checkout / "data" / "postgres" / "main", 1))


def test_first_start_from_a_private_folder_beside_a_server_on_the_default_port(
    private_checkout: Path, busy_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres_server, "DEFAULT_PORT", busy_port)
    data_dir = private_checkout / "data" / "postgres" / "main"
    port = resolve_port(data_dir)
    assert port != busy_port  # the default is taken: another free port
    cluster = LocalCluster(data_dir, port)
    ensure_running(cluster, ("nova",))
    with psycopg.connect(cluster.url("nova")) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("nova",)
    assert cluster.port_file.read_text().strip() == str(port)
    assert resolve_port(data_dir) == port  # remembered for the next start
    assert resolve_port(data_dir, "6543") == 6543  # NOVA_PG_PORT wins
    if os.geteuid() == 0:  # the server runs as `postgres`, which cannot enter the private folder
        assert data_dir.is_symlink() and not cluster.server_dir.is_relative_to(private_checkout)
        assert cluster.password_file.parent == data_dir.parent  # the password stays in the checkout
    server_dir = cluster.server_dir
    remove(cluster)
    assert not server_dir.exists() and not data_dir.exists() and not data_dir.is_symlink()


def test_a_taken_port_is_named_with_the_setting_to_change(private_checkout: Path, busy_port: int) -> None:
    cluster = LocalCluster(private_checkout / "data" / "postgres" / "main", free_port())
    ensure_running(cluster, ())
    postgres_server.stop(cluster)
    taken = LocalCluster(cluster.data_dir, busy_port)  # as with NOVA_PG_PORT set to a port in use
    with pytest.raises(PostgresError, match=rf"port {busy_port} on 127.0.0.1 is taken .* set NOVA_PG_PORT"):
        ensure_running(taken, ())
