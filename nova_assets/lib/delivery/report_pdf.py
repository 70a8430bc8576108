"""The daily PDF report (reportlab + matplotlib): KPIs, the service-stock curve of the policy
backtest, the critical list, one chart per material.

Each chart shows the stock on hand of the last weeks (rebuilt from the movements), its projection
under the forecast and the open orders, the project's reorder point and the design baseline's,
and the daily forecast as bars, so a buyer sees at a glance why a material is critical.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from nova_assets.lib.inventory.alerts import Severity, br_number
from nova_assets.lib.inventory.reorder import BASELINE_POLICY, PROJECT_POLICY
from nova_assets.lib.lake import RowFilters

HISTORY_DAYS = 60
MAX_CHARTS = 6
# the report's tables: small type in a grey grid, and the header row of those that have one
_TABLE = [("FONTSIZE", (0, 0), (-1, -1), 8), ("GRID", (0, 0), (-1, -1), 0.3, colors.grey)]
_HEADER = [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f4e79")), ("TEXTCOLOR", (0, 0), (-1, 0), colors.white)]
SEVERITY_COLOURS = {"CRÍTICO": "#c62828", "ALTO": "#ef6c00", "MÉDIO": "#f9a825", "OK": "#2e7d32"}


@dataclass(frozen=True)
class ReportData:
    cycle_date: date
    generated_at: datetime
    alerts: pd.DataFrame  # the alerts table plus description and unit_cost
    points: pd.DataFrame  # reorder points, both policies
    forecast: pd.DataFrame  # material_id, ds, forecast (ensemble)
    stock_history: pd.DataFrame  # material_id, date, on_hand
    receipts: pd.DataFrame  # material_id, expected_date, quantity
    backtest: pd.DataFrame | None = None  # policy backtest summary (segment 'all')
    service_curve: pd.DataFrame | None = None  # the project's policy at each curve target (backtest_report)
    stale_warning: str = ""
    notes: list[str] = field(default_factory=list)


def history_movements(stock: pd.DataFrame, days: int = HISTORY_DAYS) -> RowFilters:
    """The movement rows stock_history uses (the `days` before the stock snapshot), as row filters of
    a lake read: the report charts two months, not the years of history."""
    end = pd.to_datetime(stock["snapshot_date"]).max()
    return [("movement_date", ">", (end - pd.Timedelta(days=days)).date())]


def stock_history(
    stock: pd.DataFrame, movements: pd.DataFrame, ids: list[str], days: int = HISTORY_DAYS
) -> pd.DataFrame:
    """End-of-day on hand per material (all sites) for the `days` before the snapshot, rebuilt
    backwards from the snapshot with the receipts and issues in between."""
    snap = pd.to_datetime(stock["snapshot_date"])
    end = snap.max()
    on_hand = stock[snap == end].groupby("material_id")["on_hand"].sum().reindex(ids).fillna(0.0)
    moved = movements[movements["material_id"].isin(ids)].assign(day=lambda f: pd.to_datetime(f["movement_date"]))
    moved = moved[(moved["day"] > end - pd.Timedelta(days=days)) & (moved["day"] <= end)]
    sign = np.where(moved["movement_type"] == "receipt", 1.0, -1.0)
    net = moved.assign(net=moved["quantity"] * sign).pivot_table(
        index="material_id", columns="day", values="net", aggfunc="sum"
    )
    dates = pd.date_range(end - pd.Timedelta(days=days - 1), end, freq="D")
    net = net.reindex(index=ids, columns=dates).fillna(0.0)
    # on_hand(d) = on_hand(end) - sum of net movements after d
    after = net.iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1].shift(-1, axis=1).fillna(0.0)
    levels = after.rsub(on_hand, axis=0)
    return levels.stack().rename("on_hand").rename_axis(["material_id", "date"]).reset_index()


def _chart(data: ReportData, material_id: str) -> io.BytesIO:
    points = data.points[data.points["material_id"] == material_id].set_index("policy")
    history = data.stock_history[data.stock_history["material_id"] == material_id]
    fc = data.forecast[data.forecast["material_id"] == material_id].sort_values("ds")
    receipts = data.receipts[data.receipts["material_id"] == material_id]
    arrivals = receipts.groupby(pd.to_datetime(receipts["expected_date"]))["quantity"].sum()
    projected = (
        float(points.loc[PROJECT_POLICY, "stock_on_hand"])
        + (arrivals.reindex(fc["ds"]).fillna(0.0).to_numpy() - fc["forecast"].to_numpy()).cumsum()
    ).clip(min=0.0)  # below zero is unmet demand, not stock
    fig, ax = plt.subplots(figsize=(8.6, 3.6), dpi=110)
    ax.plot(pd.to_datetime(history["date"]), history["on_hand"], color="#1f4e79", label="estoque (histórico)")
    start = points.loc[PROJECT_POLICY, "stock_on_hand"]
    ax.plot(
        [pd.Timestamp(data.cycle_date), *fc["ds"]],
        [start, *projected],
        color="#1f4e79",
        linestyle="--",
        label="estoque projetado",
    )
    ax.axhline(points.loc[PROJECT_POLICY, "reorder_point"], color="#c62828", label="PP (projeto)")
    if BASELINE_POLICY in points.index:
        ax.axhline(points.loc[BASELINE_POLICY, "reorder_point"], color="#888888", linestyle=":", label="PP (base)")
    ax.axvline(pd.Timestamp(data.cycle_date), color="#bbbbbb", linewidth=0.8)
    ax.set_ylabel("unidades")
    ax2 = ax.twinx()
    ax2.bar(fc["ds"], fc["forecast"], color="#f9a825", alpha=0.35, width=0.8, label="previsão diária")
    ax2.set_ylabel("previsão / dia")
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", fontsize=7, ncol=3, framealpha=0.8)
    row = data.alerts.set_index("material_id").loc[material_id]
    ax.set_title(f"{material_id} · {row['severity']} · {row['message']}", fontsize=9, loc="left")
    fig.autofmt_xdate()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    buffer.seek(0)
    return buffer


def _kpis(data: ReportData) -> list[list[str]]:
    alerts, points = data.alerts, data.points
    counts = alerts["severity"].value_counts()
    cost = alerts.set_index("material_id")["unit_cost"]
    rows = [["Indicador", "Projeto", "Base (fórmula do projeto original)"]]
    rows.append(["Materiais", str(len(alerts)), ""])
    rows.append(
        [
            "Alertas " + " / ".join(s.value for s in Severity),
            " / ".join(str(int(counts.get(s.value, 0))) for s in Severity),
            "",
        ]
    )
    for label, fn in (
        ("Materiais no/abaixo do PP", lambda p: str(int((p["stock_position"] <= p["reorder_point"]).sum()))),
        (
            "Estoque de segurança (R$)",
            lambda p: br_number(float((p["safety_stock"].clip(lower=0) * p["material_id"].map(cost)).sum())),
        ),
        (
            "Compra sugerida (R$)",
            lambda p: br_number(float((p["suggested_order"] * p["material_id"].map(cost)).sum())),
        ),
    ):
        rows.append(
            [label, fn(points[points["policy"] == PROJECT_POLICY]), fn(points[points["policy"] == BASELINE_POLICY])]
        )
    if data.backtest is not None and not data.backtest.empty:
        bt = data.backtest.set_index("policy")
        for label, column, percent in (
            ("Backtest: nível de serviço por ciclo", "cycle_service_level", True),
            ("Backtest: fill rate", "fill_rate", True),
            ("Backtest: estoque médio (R$)", "avg_inventory_value", False),
            ("Backtest: pedidos", "orders", False),
        ):
            rows.append(
                [label]
                + [
                    (br_number(100 * float(bt.at[p, column])) + "%" if percent else br_number(float(bt.at[p, column])))
                    if p in bt.index
                    else "-"
                    for p in (PROJECT_POLICY, BASELINE_POLICY)
                ]
            )
    return rows


def _service_curve(data: ReportData) -> list:
    """What each point of service costs in stock: the backtest's service reached (cycle service
    and fill rate) against the average stock value, one point per target, the baseline beside."""
    curve = data.service_curve.sort_values("service_target")
    fig, ax = plt.subplots(figsize=(8.6, 3.2), dpi=110)
    for column, colour, label in (
        ("cycle_service_level", "#1f4e79", "nível de serviço por ciclo"),
        ("fill_rate", "#ef6c00", "fill rate"),
    ):
        ax.plot(curve["avg_inventory_value"], 100 * curve[column], marker="o", color=colour, label=f"{label} (projeto)")
        if data.backtest is not None and BASELINE_POLICY in set(data.backtest["policy"]):
            base = data.backtest.set_index("policy").loc[BASELINE_POLICY]
            ax.scatter(
                base["avg_inventory_value"], 100 * base[column], marker="x", color=colour, label=f"{label} (base)"
            )
    for row in curve.itertuples():
        ax.annotate(
            f"alvo {100 * row.service_target:.0f}%",
            (row.avg_inventory_value, 100 * row.cycle_service_level),
            textcoords="offset points",
            xytext=(4, -10),
            fontsize=7,
        )
    ax.set_xlabel("estoque médio no backtest (R$)")
    ax.set_ylabel("serviço atingido (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    buffer.seek(0)
    rows = [["Alvo", "Serviço por ciclo", "Fill rate", "Estoque médio (R$)", "R$ por ponto"]] + [
        [
            f"{100 * r.service_target:.0f}%",
            br_number(100 * r.cycle_service_level) + "%",
            br_number(100 * r.fill_rate) + "%",
            br_number(r.avg_inventory_value),
            "-" if pd.isna(r.value_per_point) else br_number(r.value_per_point),
        ]
        for r in curve.itertuples()
    ]
    table = Table(rows, colWidths=[2.2 * cm, 3.4 * cm, 3.0 * cm, 4.2 * cm, 3.4 * cm])
    table.setStyle(TableStyle(_TABLE))
    return [Image(buffer, width=17.5 * cm, height=6.5 * cm), table]


def build_report(data: ReportData, path: Path) -> Path:
    """Write the report to `path` (atomically) and return it."""
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["BodyText"], fontSize=8, leading=10)
    warn = ParagraphStyle("warn", parent=small, backColor=colors.HexColor("#fff3cd"), borderPadding=4)
    story: list = [
        Paragraph("Nova Corrente - Relatório diário de estoque", styles["Title"]),
        Paragraph(f"Ciclo {data.cycle_date:%d/%m/%Y} · gerado em {data.generated_at:%d/%m/%Y %H:%M}", styles["Normal"]),
        Spacer(1, 0.3 * cm),
    ]
    if data.stale_warning:
        story += [Paragraph(data.stale_warning, warn), Spacer(1, 0.3 * cm)]
    for note in data.notes:
        story.append(Paragraph(note, small))
    kpi = Table(_kpis(data), colWidths=[7.5 * cm, 4.5 * cm, 5.5 * cm])
    kpi.setStyle(
        TableStyle(
            [*_HEADER, *_TABLE, ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f2f2f2")])]
        )
    )
    story += [Spacer(1, 0.3 * cm), Paragraph("Indicadores", styles["Heading2"]), kpi]
    if data.service_curve is not None and not data.service_curve.empty:
        story += [
            Spacer(1, 0.3 * cm),
            Paragraph("Quanto custa cada ponto de serviço (backtest da política)", styles["Heading2"]),
            Paragraph(
                "Todos os materiais em cada alvo (sua própria medida), com o nível calibrado no serviço simulado; "
                "R$ por ponto: estoque médio adicional por ponto de serviço em relação ao alvo anterior.",
                small,
            ),
            *_service_curve(data),
        ]

    ranked = data.alerts.assign(rank=data.alerts["severity"].map(lambda s: Severity(s).rank))
    urgent = ranked[ranked["rank"] >= Severity.ALTO.rank].sort_values(
        ["rank", "days_until_stockout"], ascending=[False, True]
    )
    story += [Spacer(1, 0.4 * cm), Paragraph("Materiais críticos e em alerta alto", styles["Heading2"])]
    if urgent.empty:
        story.append(Paragraph("Nenhum material no ou abaixo do ponto de pedido.", styles["Normal"]))
    else:
        rows = [["Sev.", "Material", "Descrição", "Situação", "Ação"]] + [
            [
                Paragraph(f"<font color='{SEVERITY_COLOURS[r.severity]}'><b>{r.severity}</b></font>", small),
                r.material_id,
                Paragraph(str(r.description)[:60], small),
                Paragraph(r.message, small),
                Paragraph(r.action, small),
            ]
            for r in urgent.head(25).itertuples()
        ]
        table = Table(rows, colWidths=[1.7 * cm, 2.2 * cm, 5.6 * cm, 3.6 * cm, 4.6 * cm], repeatRows=1)
        table.setStyle(TableStyle([*_HEADER, *_TABLE, ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(table)
        if len(urgent) > 25:
            story.append(Paragraph(f"… e mais {len(urgent) - 25} materiais (ver painel).", small))

    charted = urgent.head(MAX_CHARTS)["material_id"].tolist()
    if charted:
        story += [PageBreak(), Paragraph("Estoque x ponto de pedido x previsão", styles["Heading2"])]
        for material_id in charted:
            story.append(Image(_chart(data, material_id), width=17.5 * cm, height=7.3 * cm))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".pdf.tmp")
    SimpleDocTemplate(
        str(tmp),
        pagesize=A4,
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.5 * cm,
        title=f"Nova Corrente - estoque {data.cycle_date:%d/%m/%Y}",
    ).build(story)
    tmp.replace(path)
    return path
