"""The daily PDF report: stock history rebuilt from movements, and a readable PDF with charts."""

import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nova_assets.lib.delivery.report_pdf import ReportData, build_report, stock_history


def test_stock_history_walks_back_from_the_snapshot() -> None:
    stock = pd.DataFrame(
        {"snapshot_date": ["2025-11-09"] * 2, "material_id": ["M1", "M1"], "site_id": ["A", "B"], "on_hand": [6.0, 4.0]}
    )
    movements = pd.DataFrame(
        {
            "movement_date": ["2025-11-08", "2025-11-09", "2025-11-09"],
            "material_id": ["M1"] * 3,
            "site_id": ["A", "A", "B"],
            "movement_type": ["issue", "receipt", "issue"],
            "quantity": [3.0, 5.0, 2.0],
        }
    )
    history = stock_history(stock, movements, ["M1"], days=3).set_index("date")["on_hand"]
    # end of 9/11: 10; end of 8/11: 10 - (5 - 2) = 7; end of 7/11: 7 + 3 = 10
    assert history.to_dict() == {
        pd.Timestamp("2025-11-07"): 10.0,
        pd.Timestamp("2025-11-08"): 7.0,
        pd.Timestamp("2025-11-09"): 10.0,
    }


def _report_data() -> ReportData:
    ids = ["M1", "M2", "M3"]
    cycle = date(2025, 11, 9)
    alerts = pd.DataFrame(
        {
            "material_id": ids,
            "description": ["Bateria 48V", "Conector N", "Cabo RF"],
            "unit_cost": [1200.0, 35.0, 80.0],
            "severity": ["CRÍTICO", "ALTO", "OK"],
            "message": ["Estoque 65 <= PP 141,5", "Estoque 120 <= PP 141,5", "Estoque 900 acima do PP 100"],
            "action": ["COMPRAR 300 unidades em até 2 dias", "COMPRAR 280 unidades em até 13 dias", "Nenhuma"],
            "days_until_stockout": [2.6, 20.0, np.inf],
        }
    )
    points = pd.concat(
        [
            pd.DataFrame(
                {
                    "material_id": ids,
                    "policy": policy,
                    "stock_on_hand": [65.0, 120.0, 900.0],
                    "stock_position": [65.0, 120.0, 900.0],
                    "reorder_point": [141.5 * k, 141.5 * k, 100.0],
                    "safety_stock": [30.0 * k, 20.0, 10.0],
                    "suggested_order": [300.0, 280.0, 0.0],
                }
            )
            for policy, k in (("project", 1.0), ("baseline_design", 0.8))
        ],
        ignore_index=True,
    )
    days = pd.date_range("2025-11-10", periods=14)
    forecast = pd.DataFrame(
        [(m, d, 10.0 + i % 3) for m in ids for i, d in enumerate(days)], columns=["material_id", "ds", "forecast"]
    )
    history = pd.DataFrame(
        [(m, d, 200.0 - 2 * i) for m in ids for i, d in enumerate(pd.date_range("2025-09-11", "2025-11-09"))],
        columns=["material_id", "date", "on_hand"],
    )
    receipts = pd.DataFrame({"material_id": ["M1"], "expected_date": ["2025-11-15"], "quantity": [150.0]})
    backtest = pd.DataFrame(
        {
            "policy": ["project", "baseline_design"],
            "cycle_service_level": [0.951, 0.87],
            "fill_rate": [0.94, 0.88],
            "avg_inventory_value": [14511.0, 9771.0],
            "orders": [11982, 8931],
        }
    )
    return ReportData(
        cycle,
        datetime(2025, 11, 10, 0, 5),
        alerts,
        points,
        forecast,
        history,
        receipts,
        backtest,
        stale_warning="ATENÇÃO: dados desatualizados",
        notes=["Dados SINTÉTICOS."],
    )


def test_report_is_a_pdf_with_kpis_and_charts(tmp_path: Path) -> None:
    path = build_report(_report_data(), tmp_path / "relatorio.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000  # the charts are embedded images
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils not installed: text not checked")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for expected in (
        "Relatório diário de estoque",
        "CRÍTICO",
        "COMPRAR 300 unidades",
        "ATENÇÃO",
        "Estoque x ponto de pedido x previsão",
        "95,1%",
    ):
        assert expected in text, expected


def test_report_shows_what_each_point_of_service_costs(tmp_path: Path) -> None:
    curve = pd.DataFrame(
        {
            "service_measure": "mixed",
            "service_target": [0.90, 0.95, 0.98],
            "items": 3,
            "cycle_service_level": [0.903, 0.948, 0.977],
            "fill_rate": [0.95, 0.975, 0.99],
            "avg_on_hand": [100.0, 130.0, 180.0],
            "avg_inventory_value": [10000.0, 13000.0, 18000.0],
            "value_per_point": [np.nan, 600.0, 1666.7],
        }
    )
    plain = build_report(_report_data(), tmp_path / "plain.pdf")
    data = _report_data()
    with_curve = build_report(ReportData(**{**data.__dict__, "service_curve": curve}), tmp_path / "curve.pdf")
    assert with_curve.stat().st_size > plain.stat().st_size + 5_000  # one more chart
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils not installed: text not checked")
    text = subprocess.run(["pdftotext", str(with_curve), "-"], capture_output=True, text=True, check=True).stdout
    for expected in ("Quanto custa cada ponto de serviço", "R$ por ponto", "1.666,7", "97,7%"):
        assert expected in text, expected


def test_the_report_says_synthetic_while_any_erp_file_is_the_samples() -> None:
    from nova_assets.defs.delivery.report import _data_notes
    from nova_assets.lib.sources.erp_store import ErpProvenance

    assert _data_notes(True, ErpProvenance(files=7, synthetic=7, unrecorded=0)) == [
        "Dados SINTÉTICOS (amostra gerada para demonstração)."
    ]
    assert _data_notes(False, ErpProvenance(files=8, synthetic=7, unrecorded=0)) == [
        "Dados em parte SINTÉTICOS: 7 dos 8 arquivos do ERP usados vêm da amostra gerada."
    ]
    assert _data_notes(False, ErpProvenance(files=8, synthetic=0, unrecorded=0)) == []
