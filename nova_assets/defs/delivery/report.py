"""The daily PDF report, written to the lake beside the tables it summarises."""

from datetime import datetime

import dagster as dg
import pandas as pd

from nova_assets.lib.delivery.report_pdf import ReportData, build_report, history_movements, stock_history
from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL
from nova_assets.lib.lake_tables import (
    ALERTS,
    ENSEMBLE_FORECAST,
    ERP_MATERIALS,
    ERP_MOVEMENTS,
    ERP_OPEN_ORDERS,
    ERP_STOCK,
    POLICY_BACKTEST,
    POLICY_SERVICE_CURVE,
    REORDER_POINTS,
)
from nova_assets.lib.lake_tables import (
    daily_report as report_file,
)
from nova_assets.lib.local_time import TIMEZONE
from nova_assets.lib.sources.erp_store import ErpProvenance
from nova_assets.lib.sources.erp_tables import STOCK_MOVEMENT_COLUMNS
from nova_assets.resources import LakeResource, SourcesResource, lake_deps


@dg.asset(
    key_prefix="delivery",
    deps=lake_deps(
        ALERTS,
        REORDER_POINTS,
        POLICY_BACKTEST,
        POLICY_SERVICE_CURVE,
        ENSEMBLE_FORECAST,
        ERP_MATERIALS,
        ERP_STOCK,
        ERP_MOVEMENTS,
        ERP_OPEN_ORDERS,
    ),
    kinds={"pdf"},
)
def daily_report(lake: LakeResource, sources: SourcesResource) -> dg.MaterializeResult:
    """KPIs (alerts, both policies, the policy backtest), the backtest's service-stock curve, the
    critical list and, for the most urgent materials, stock vs reorder point vs forecast charts.
    Attached to the alert e-mails."""
    alerts = lake.read(ALERTS)
    materials = lake.read(ERP_MATERIALS, ["material_id", "description", "unit_cost"])
    alerts = alerts.merge(materials, on="material_id", how="left")
    points = lake.read(REORDER_POINTS)
    cycle_date = pd.Timestamp(alerts["cycle_date"].iloc[0]).date()
    forecast = lake.read(ENSEMBLE_FORECAST)
    forecast = forecast[forecast["model"] == ENSEMBLE_MODEL].rename(columns={"unique_id": "material_id"})
    urgent = alerts.loc[alerts["severity"].isin(["CRÍTICO", "ALTO"]), "material_id"].tolist()
    backtest = lake.read(POLICY_BACKTEST)
    stock = lake.read(ERP_STOCK)
    movements = lake.read(ERP_MOVEMENTS, STOCK_MOVEMENT_COLUMNS, filters=history_movements(stock))
    data = ReportData(
        cycle_date=cycle_date,
        generated_at=datetime.now(TIMEZONE),
        alerts=alerts,
        points=points,
        forecast=forecast[["material_id", "ds", "forecast"]],
        stock_history=stock_history(stock, movements, urgent),
        receipts=lake.read(ERP_OPEN_ORDERS),
        backtest=backtest[backtest["segment"] == "all"],
        service_curve=lake.read_if_exists(POLICY_SERVICE_CURVE),
        stale_warning=str(alerts["stale_warning"].iloc[0] or ""),
        notes=_data_notes(sources.is_synthetic, lake.erp_provenance()),
    )
    path = build_report(data, lake.path(report_file(cycle_date)))
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "cycle_date": str(cycle_date),
            "charted_materials": min(len(urgent), 6),
            "size_kb": round(path.stat().st_size / 1024, 1),
        }
    )


def _data_notes(landing_is_sample: bool, erp: ErpProvenance) -> list[str]:
    """What the report says about its data (ErpProvenance.synthetic_share, as the dashboard's banner)."""
    share = erp.synthetic_share(landing_is_sample)
    if share is None:
        return []
    if share[0] < share[1]:
        return [f"Dados em parte SINTÉTICOS: {share[0]} dos {share[1]} arquivos do ERP usados vêm da amostra gerada."]
    return ["Dados SINTÉTICOS (amostra gerada para demonstração)."]
