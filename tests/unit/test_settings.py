"""The settings registry: types, embedded defaults, bad values named at start, the one yes/no parser,
and the generated configuration page."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from nova_assets import cli
from nova_assets.settings import (
    DERIVED,
    PROJECT_ROOT,
    SETTINGS,
    SettingsError,
    configuration_table,
    load_settings,
    parse_flag,
)

CONFIGURATION_PAGE = PROJECT_ROOT / "docs" / "configuration.md"


def test_embedded_defaults_are_typed_and_under_the_root(tmp_path: Path) -> None:
    settings = load_settings({}, root=tmp_path)
    assert settings.offline is True and settings.context_multiplier is False
    assert settings.forecast_horizon == 30 and settings.material_groups == 4 and settings.smtp_port == 587
    assert settings.holding_cost_rate == pytest.approx(0.10) and settings.order_rule == "eoq"
    assert settings.lake_dir == tmp_path / "data" / "lake" and settings.pg_dir == tmp_path / "data/postgres/main"
    assert settings.dagster_home == tmp_path
    assert settings.mlflow_tracking_uri == f"sqlite:///{tmp_path}/mlflow/mlflow.db"
    assert settings.alert_routing_file == PROJECT_ROOT / "nova_assets/lib/delivery/alert_routing.toml"  # in the code
    assert settings.pg_port is None and settings.as_of_date is None and settings.inmet_history_dir is None
    environment = settings.environment()
    assert set(environment) == set(SETTINGS)
    assert environment["NOVA_OFFLINE"] == "1" and environment["NOVA_PG_PORT"] == ""
    assert environment["NOVA_LAKE_DIR"] == str(tmp_path / "data" / "lake")


def test_the_environment_wins_and_an_empty_value_counts_as_unset(tmp_path: Path) -> None:
    environ = {"NOVA_LAKE_DIR": "/srv/lake", "NOVA_FORECAST_HORIZON": " 14 ", "NOVA_ORDER_RULE": "UP_TO"}
    settings = load_settings({**environ, "NOVA_SNAPSHOT_DIR": "", "NOVA_AS_OF_DATE": "2025-11-09"}, root=tmp_path)
    assert settings.lake_dir == Path("/srv/lake") and settings.forecast_horizon == 14
    assert settings.order_rule == "up_to" and str(settings.as_of_date) == "2025-11-09"
    assert settings.snapshot_dir == tmp_path / "data" / "snapshots"
    assert settings.origins["NOVA_LAKE_DIR"] == "environment" and settings.origins["NOVA_SNAPSHOT_DIR"] == "default"
    overridden = load_settings(environ, root=tmp_path, overrides={"NOVA_FORECAST_HORIZON": "7"})
    assert overridden.forecast_horizon == 7


def test_bad_values_are_all_named_with_the_value_and_what_is_accepted() -> None:
    environ = {
        "NOVA_FORECAST_HORIZON": "abc",
        "NOVA_ORDER_RULE": "foo",
        "NOVA_OFFLINE": "maybe",
        "NOVA_SMTP_PASSWORD": "fine",  # a good value among bad ones is not reported
        "NOVA_AS_OF_DATE": "2025-13-01",
        "NOVA_SERVICE_TARGETS": "A=csl:1.5",
        "NOVA_PG_PORT": "70000",
        "NOVA_BACEN_SGS_URL": "ftp://mirror",
    }
    with pytest.raises(SettingsError) as failure:
        load_settings(environ)
    problems = {problem.split(" ", 1)[0]: problem for problem in failure.value.problems}
    assert set(problems) == set(environ) - {"NOVA_SMTP_PASSWORD"}
    assert problems["NOVA_FORECAST_HORIZON"].startswith(
        "NOVA_FORECAST_HORIZON must be a whole number of at least 1, not 'abc'"
    )
    assert problems["NOVA_ORDER_RULE"].startswith("NOVA_ORDER_RULE must be eoq or up_to, not 'foo'")
    assert problems["NOVA_OFFLINE"].startswith("NOVA_OFFLINE must be 1/0, true/false, yes/no or on/off, not 'maybe'")
    assert "not '2025-13-01'" in problems["NOVA_AS_OF_DATE"]
    assert "service level must be in [0.5, 1)" in problems["NOVA_SERVICE_TARGETS"]
    assert "TCP port" in problems["NOVA_PG_PORT"] and "http://" in problems["NOVA_BACEN_SGS_URL"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        (" ON ", True),
        ("0", False),
        ("FALSE", False),
        ("no", False),
        ("off", False),
    ],
)
def test_the_one_yes_no_parser(text: str, value: bool) -> None:
    assert parse_flag(text) is value
    assert load_settings({"NOVA_OFFLINE": text}).offline is value


@pytest.mark.parametrize("text", ["maybe", "2", "y", "offline", "-1"])
def test_the_yes_no_parser_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError):
        parse_flag(text)


def test_off_turns_offline_mode_off_in_the_bound_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug of the two parsers: "off" meant offline ON for the sources and OFF for the inventory flags."""
    from nova_assets.defs.inventory.settings import resources as inventory_resources
    from nova_assets.defs.resources import resources

    monkeypatch.setenv("NOVA_OFFLINE", "off")
    monkeypatch.setenv("NOVA_CONTEXT_MULTIPLIER", "off")
    assert resources().resources["sources"].is_offline is False
    assert inventory_resources().resources["inventory_settings"].policy.context_multiplier is False


def test_the_code_location_refuses_a_bad_value_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    from nova_assets.defs.resources import resources

    monkeypatch.setenv("NOVA_ORDER_RULE", "foo")
    with pytest.raises(SettingsError, match="NOVA_ORDER_RULE must be eoq or up_to, not 'foo'"):
        resources()


def test_nova_stops_before_starting_anything_on_a_bad_value(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOVA_FORECAST_HORIZON", "abc")
    assert cli.main(["services", "up"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nova: error: NOVA_FORECAST_HORIZON must be a whole number of at least 1, not 'abc'")
    assert "Traceback" not in err


def test_the_nova_command_starts_without_the_model_and_replay_libraries() -> None:
    """Every `nova` command, `--help` too, imports nova_assets.cli; the libraries of one command are
    imported by that command (dagster by the imports, scipy by the replay, the models by the forecast)."""
    heavy = ["dagster", "scipy", "lightgbm", "xgboost", "statsforecast", "torch", "prophet", "mlflow"]
    probe = f"import sys, nova_assets.cli; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_nova_command_starts_without_hashing_a_password() -> None:
    """argon2 is slow by design (~0.1 s a hash): the sign-in's stand-in hash is made at the first sign-in."""
    probe = (
        "import argon2\n"
        "def refuse(*args, **kwargs): raise AssertionError('a password hashed at start')\n"
        "argon2.PasswordHasher.hash = refuse\n"
        "import nova_assets.cli, nova_assets.web.app"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_nova_settings_lists_every_setting_with_secrets_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOVA_SMTP_PASSWORD", "hunter2")
    assert cli.main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out and re.search(r"NOVA_SMTP_PASSWORD\s+\*\*\*\s+\[environment\]", out)
    assert {line.split()[0] for line in out.splitlines()} == set(SETTINGS)
    # a URL says where it points, without who or the password (also given as a query parameter)
    monkeypatch.setenv("NOVA_POSTGRES_URL", "postgresql://nova:pw1@db.example:5433/nova?password=pw2")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////srv/mlflow/mlflow.db")
    assert cli.main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "pw1" not in out and "pw2" not in out and "nova:" not in out
    assert re.search(r"NOVA_POSTGRES_URL\s+postgresql://\*\*\*@db\.example:5433/nova\?\*\*\*\s", out)
    assert re.search(r"MLFLOW_TRACKING_URI\s+sqlite:////srv/mlflow/mlflow\.db\s", out)
    # unset with a default computed at start: what it then is, in the configuration page's words
    monkeypatch.delenv("NOVA_INMET_HISTORY_DIR", raising=False)
    assert cli.main(["settings"]) == 0
    assert re.search(
        r"NOVA_INMET_HISTORY_DIR\s+\(unset: \$NOVA_LANDING_DIR/inmet\)\s+\[default\]", capsys.readouterr().out
    )


def test_inventory_defaults_are_the_registry_ones() -> None:
    from nova_assets.defs.inventory.settings import InventorySettings

    policy = InventorySettings().policy
    assert (policy.order_rule, policy.cover_days, policy.order_cost_brl, policy.context_cap) == ("eoq", 30, 150, 1.5)
    assert {c: str(t) for c, t in policy.targets.items()} == {"A": "csl:0.98", "B": "csl:0.95", "C": "fill_rate:0.95"}


def test_the_configuration_page_is_generated_from_the_registry() -> None:
    """Regenerate with `python -m nova_assets.settings > docs/configuration.md`."""
    assert CONFIGURATION_PAGE.read_text(encoding="utf-8") == configuration_table(), (
        "docs/configuration.md is stale: run `python -m nova_assets.settings > docs/configuration.md`"
    )
    for name in [*SETTINGS, *DERIVED]:
        assert f"`{name}`" in CONFIGURATION_PAGE.read_text(encoding="utf-8")


def test_every_variable_the_code_names_is_registered() -> None:
    """One place for each setting: a NOVA_* variable named in the code is a registry entry (or derived)."""
    named = set()
    for path in (PROJECT_ROOT / "nova_assets").rglob("*.py"):
        named |= set(re.findall(r"\b(NOVA_[A-Z0-9_]*[A-Z0-9])\b", path.read_text(encoding="utf-8")))
    unknown = sorted(named - set(SETTINGS) - set(DERIVED))
    assert unknown == [], f"register these in nova_assets/settings.py: {unknown}"
