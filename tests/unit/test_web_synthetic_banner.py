"""The dashboard's SYNTHETIC banner: from the landing folder's marker and the ERP store's record of files."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from nova_assets.lib.platform.sessions import LoginLimits
from nova_assets.lib.sample import SYNTHETIC_MARKER
from nova_assets.lib.sources.erp_store import ErpStore
from nova_assets.web.config import WebConfig
from nova_assets.web.pages import templates


def _config(tmp_path: Path) -> WebConfig:
    return WebConfig(
        api_database_url="postgresql://unused",
        jwt_secret="x" * 48,
        token_ttl=timedelta(minutes=5),
        login_limits=LoginLimits(per_user=5, window=timedelta(minutes=15)),
        mlflow_ui_url="http://mlflow",
        order_cost_brl=150.0,
        holding_cost_rate=0.25,
        landing_dir=tmp_path / "landing",
        lake_dir=tmp_path / "lake",
    )


def _store_files(tmp_path: Path, synthetic: list[bool]) -> None:
    root = ErpStore.in_lake(tmp_path / "lake").root
    root.mkdir(parents=True, exist_ok=True)
    files = [
        {"content_hash": f"{i:064x}", "file_name": f"movements_{i}.csv", "table": "erp_movements",
         "loaded_at": "2026-12-06T18:00:00+00:00", "size_bytes": 10, "good_rows": 1, "quarantined_rows": 0,
         "synthetic": flag}
        for i, flag in enumerate(synthetic)
    ]  # fmt: skip
    (root / "manifest.json").write_text(json.dumps({"files": files}))


def _banner(share: tuple[int, int] | None) -> str:
    html = templates.env.get_template("base.html").render(synthetic=share, synthetic_marker=SYNTHETIC_MARKER)
    start = html.find('class="banner synthetic"')
    return "" if start < 0 else html[start : html.index("</div>", start)]


def test_real_exports_alone_show_no_banner(tmp_path: Path) -> None:
    _store_files(tmp_path, [False, False])
    assert _config(tmp_path).synthetic_share is None
    assert _banner(None) == ""


def test_the_samples_landing_folder_shows_the_synthetic_banner(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / SYNTHETIC_MARKER).write_text("generated\n")
    assert _config(tmp_path).synthetic_share == (0, 0)
    _store_files(tmp_path, [True, True])  # the demo's files loaded: the banner still names the marker
    assert _config(tmp_path).synthetic_share == (0, 0)
    assert f"(nota {SYNTHETIC_MARKER} na pasta de entrada)" in _banner((0, 0))


@pytest.mark.parametrize("flags", [[True, True, False], [True, False, False]])
def test_a_store_mixing_the_sample_and_real_exports_says_so_after_the_marker_is_gone(
    tmp_path: Path, flags: list[bool]
) -> None:
    _store_files(tmp_path, flags)
    share = _config(tmp_path).synthetic_share
    assert share == (sum(flags), len(flags))
    assert f"Dados em parte SINTÉTICOS: {sum(flags)} dos {len(flags)} arquivos do ERP" in _banner(share)


def test_the_banner_follows_the_store_as_it_changes(tmp_path: Path) -> None:
    config = _config(tmp_path)
    _store_files(tmp_path, [True, True])
    assert config.synthetic_share == (2, 2)
    assert "(nota" not in _banner((2, 2))  # no marker to point to once it is removed
    _store_files(tmp_path, [True, True, False, False, False])  # real exports join the sample's
    assert config.synthetic_share == (2, 5)


def test_an_unreadable_store_falls_back_to_the_marker_instead_of_failing_the_page(tmp_path: Path) -> None:
    root = ErpStore.in_lake(tmp_path / "lake").root
    root.mkdir(parents=True)
    (root / "manifest.json").write_text("{not json")
    assert _config(tmp_path).synthetic_share is None
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / SYNTHETIC_MARKER).write_text("generated\n")
    assert _config(tmp_path).synthetic_share == (0, 0)
