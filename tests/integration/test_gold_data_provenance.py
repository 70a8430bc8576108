"""analytics.data_provenance on a copy of the session's cycle: the label of the gold rows is never more
real than the forecast they show, even when the gold layer is re-run alone after the ERP files changed."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from nova_assets.defs.forecast.ensemble import ERP_DATA
from nova_assets.defs.gold.base.provenance import ENSEMBLE
from nova_assets.lib.sample import SYNTHETIC_MARKER
from nova_assets.lib.sources.erp_files import ERP_TABLES
from nova_assets.lib.sources.quality import BUILT_FROM, read_status, write_status
from tests.integration.conftest import Cycle, copy_cycle

LABEL = dg.AssetKey(["gold", "data_provenance"])


@pytest.fixture
def cycle(tmp_path: Path, postgres_server: str, daily_cycle: Cycle) -> Cycle:
    return copy_cycle(daily_cycle, tmp_path / "cycle", postgres_server, "nova_provenance_test")


def _label(cycle: Cycle) -> tuple[int, int, str]:
    ((files, sample, description),) = cycle.gold(
        "SELECT erp_files, erp_sample_files, description FROM analytics.data_provenance WHERE cycle_date = %s",
        (cycle.partition,),
    )
    return files, sample, description


def _forecast_made_from(cycle: Cycle, files: int, sample: int) -> None:
    """As the ensemble step records it in its materialization."""
    record = {"files": files, "synthetic": sample, "unrecorded": 0}
    cycle.instance.report_runless_asset_event(
        dg.AssetMaterialization(ENSEMBLE, metadata={ERP_DATA: dg.MetadataValue.json(record)})
    )


def test_a_rerun_of_the_gold_layer_alone_keeps_the_label_of_the_forecast_it_shows(cycle: Cycle) -> None:
    files, sample, _ = _label(cycle)
    assert files == sample > 0  # the session's cycle ran on the generated sample
    lake = Path(cycle.settings["NOVA_LAKE_DIR"])
    for table in ERP_TABLES:  # the sample's files withdrawn and one real export per table imported since
        status = read_status(lake, table)
        write_status(lake, table, {**status, BUILT_FROM: {"files": 1, "synthetic": 0, "unrecorded": 0}})
    _forecast_made_from(cycle, files, sample)
    cycle.rerun([LABEL])
    described = f"SYNTHETIC sample: the tables are built from {files} ERP files, all generated"
    assert _label(cycle) == (files, sample, described)
    _forecast_made_from(cycle, len(ERP_TABLES), 0)  # the next cycle forecast on the real exports
    cycle.rerun([LABEL])
    real = f"ERP exports: {len(ERP_TABLES)} files, none from the generated sample"
    # the sample's note still in the landing folder: the banner and /health say SYNTHETIC, and so does the sentence
    noted = f"{real}; but the landing folder holds {SYNTHETIC_MARKER}, the generated sample's note"
    assert _label(cycle) == (len(ERP_TABLES), 0, noted)
    (Path(cycle.settings["NOVA_LANDING_DIR"]) / SYNTHETIC_MARKER).unlink()
    cycle.rerun([LABEL])
    assert _label(cycle) == (len(ERP_TABLES), 0, real)
