"""Missing or unusable credentials and settings: a message naming what is wrong, no password, no traceback."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import psycopg
import pytest

from nova_assets import cli
from nova_assets.defs.gold.base.postgres import GoldAccessResource, database
from nova_assets.resources import PostgresResource
from nova_assets.services.local_stack import StackConfigError, bring_up
from nova_assets.services.postgres_server import LocalCluster, PostgresError, ensure_running
from tests.integration.test_faults_lake import error_text


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}@{parts.hostname}:{parts.port}"))


@pytest.fixture
def stack_env(monkeypatch: pytest.MonkeyPatch, postgres_server: str) -> str:
    """A working environment for bring_up (the test server, a sqlite MLflow store); returns the gold URL."""
    for name in ("PGPASSWORD", "PGPASSFILE"):  # the password must come from the URL only
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NOVA_POSTGRES_URL", postgres_server)
    monkeypatch.delenv("NOVA_DAGSTER_PG_URL", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("NOVA_MLFLOW_ARTIFACT_ROOT", raising=False)
    return postgres_server


def test_a_gold_url_without_password_fails_naming_the_setting(stack_env: str) -> None:
    url = _without_password(stack_env)
    with pytest.raises(psycopg.OperationalError) as failure:
        PostgresResource(url=url).connect()
    message = str(failure.value)
    assert "cannot connect to the gold database NOVA_POSTGRES_URL=postgresql://***@127.0.0.1:" in message
    assert "names a user but no password" in message and "no password supplied" in message

    result = dg.materialize(
        [database],
        resources={"gold": PostgresResource(url=url), "gold_access": GoldAccessResource()},
        raise_on_error=False,
    )
    assert not result.success
    (failure_event,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "NOVA_POSTGRES_URL=postgresql://***@" in error_text(failure_event.step_failure_data.error)


def test_nova_services_up_rejects_a_wrong_password_before_any_run(
    stack_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = stack_env.replace(urlsplit(stack_env).password or "", "not-the-password", 1)
    monkeypatch.setenv("NOVA_POSTGRES_URL", wrong)
    monkeypatch.setattr(cli, "bring_up", functools.partial(bring_up, tmp_path))
    assert cli.main(["services", "up"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nova: error: NOVA_POSTGRES_URL=postgresql://***@127.0.0.1:")
    assert "password authentication failed" in err and "not-the-password" not in err
    assert "Traceback" not in err
    assert not (tmp_path / ".env").exists()  # nothing half-configured


@pytest.mark.parametrize(
    ("uri", "cause"),
    [
        ("foo://tracking", "unsupported URI 'foo://tracking'"),
        ("sqlite:///{tmp}/a-file/mlflow.db", "a-file"),  # the store's folder is a file: cannot be created
    ],
)
def test_a_bad_mlflow_uri_fails_before_the_run_naming_the_setting(
    stack_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uri: str, cause: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri.format(tmp=tmp_path))
    with pytest.raises(StackConfigError) as failure:
        bring_up(tmp_path)
    message = str(failure.value)
    assert message.startswith("the MLflow tracking store cannot be used: MLFLOW_TRACKING_URI=")
    assert cause in message
    assert not (tmp_path / ".env").exists()


def _cluster_with_data(tmp_path: Path) -> LocalCluster:
    """A cluster folder that holds data (PG_VERSION) but whose password file is gone."""
    cluster = LocalCluster(data_dir=tmp_path / "main", port=1)
    cluster.data_dir.mkdir()
    (cluster.data_dir / "PG_VERSION").write_text("17\n")
    return cluster


def test_a_missing_password_file_is_named_and_the_cluster_is_not_called_incomplete(tmp_path: Path) -> None:
    cluster = _cluster_with_data(tmp_path)
    with pytest.raises(PostgresError) as failure:
        ensure_running(cluster, ())
    message = str(failure.value)
    assert str(cluster.password_file) in message and "missing" in message
    assert "remove it" not in message  # the old advice would have thrown the data away
    assert (cluster.data_dir / "PG_VERSION").exists()


def test_an_unreadable_password_file_is_named(tmp_path: Path) -> None:
    cluster = _cluster_with_data(tmp_path)
    cluster.password_file.mkdir()  # unreadable as a file, even for root
    with pytest.raises(PostgresError, match="cannot read the password of the local PostgreSQL cluster") as failure:
        cluster.url("nova")
    assert str(cluster.password_file) in str(failure.value) and "Is a directory" in str(failure.value)


def test_a_password_file_without_read_permission_is_named(tmp_path: Path) -> None:
    cluster = _cluster_with_data(tmp_path)
    cluster.password_file.write_text("secret\n")
    cluster.password_file.chmod(0)
    if os.access(cluster.password_file, os.R_OK):  # root reads it anyway: chmod proves nothing here
        pytest.skip("permission bits do not stop this user (root); the unreadable-file case covers it")
    with pytest.raises(PostgresError, match="Permission denied"):
        cluster.url("nova")
