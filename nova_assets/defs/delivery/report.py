"""The daily PDF report, written to the lake beside the tables it summarises."""

from datetime import datetime
from pathlib import Path

import dagster as dg
import pandas as pd

from nova_assets.defs.inventory.alerts import TIMEZONE
from nova_assets.lib.delivery.report_pdf import ReportData, build_report, stock_history
from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL
from nova_assets.lib.lake import table_path
from nova_assets.lib.sources.erp_files import STOCK_MOVEMENT_COLUMNS
from nova_assets.resources import LakeResource, SourcesResource

REPORT_LAYER = "reports"


def report_path(lake: LakeResource, cycle_date: object) -> Path:
    return lake.root / REPORT_LAYER / f"relatorio_estoque_{pd.Timestamp(cycle_date):%Y-%m-%d}.pdf"


@dg.asset(
    key_prefix="delivery",
    group_name="delivery",
    deps=[
        dg.AssetKey(["inventory", "alerts"]),
        dg.AssetKey(["inventory", "reorder_points"]),
        dg.AssetKey(["inventory", "policy_backtest"]),
        dg.AssetKey(["forecast", "forecast_ensemble"]),
        dg.AssetKey(["raw", "erp_movements"]),
    ],
    kinds={"pdf"},
)
def daily_report(lake: LakeResource, sources: SourcesResource) -> dg.MaterializeResult:
    """KPIs (alerts, both policies, the policy backtest), the critical list and, for the most urgent
    materials, stock vs reorder point vs forecast charts. Attached to the alert e-mails."""
    alerts = lake.read("inventory", "alerts")
    materials = lake.read("raw", "erp_materials")[["material_id", "description", "unit_cost"]]
    alerts = alerts.merge(materials, on="material_id", how="left")
    points = lake.read("inventory", "reorder_points")
    cycle_date = pd.Timestamp(alerts["cycle_date"].iloc[0]).date()
    forecast = lake.read("forecast", "ensemble")
    forecast = forecast[forecast["model"] == ENSEMBLE_MODEL].rename(columns={"unique_id": "material_id"})
    urgent = alerts.loc[alerts["severity"].isin(["CRÍTICO", "ALTO"]), "material_id"].tolist()
    backtest = lake.read("inventory", "policy_backtest")
    data = ReportData(
        cycle_date=cycle_date,
        generated_at=datetime.now(TIMEZONE),
        alerts=alerts,
        points=points,
        forecast=forecast[["material_id", "ds", "forecast"]],
        stock_history=stock_history(
            lake.read("raw", "erp_stock"), lake.read("raw", "erp_movements", STOCK_MOVEMENT_COLUMNS), urgent
        ),
        receipts=lake.read("raw", "erp_open_orders"),
        backtest=backtest[backtest["segment"] == "all"],
        service_curve=lake.read("inventory", "policy_service_curve")
        if table_path(lake.root, "inventory", "policy_service_curve").exists()
        else None,
        stale_warning=str(alerts["stale_warning"].iloc[0] or ""),
        notes=["Dados SINTÉTICOS (amostra gerada para demonstração)."] if sources.is_synthetic else [],
    )
    path = build_report(data, report_path(lake, cycle_date))
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "cycle_date": str(cycle_date),
            "charted_materials": min(len(urgent), 6),
            "size_kb": round(path.stat().st_size / 1024, 1),
        }
    )
