"""What to send today: one digest per channel and recipient, never the same alert twice a day.

The dedupe key is (day, material, channel, recipient). A material already told to a recipient
today is left out unless its severity rose since (an escalation, sent at once). A material whose
last message on an earlier day had a lower severity is also marked as an escalation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from nova_assets.lib.delivery.routing import Routing
from nova_assets.lib.inventory.alerts import Severity

Key = tuple[str, str, str]  # material_id, channel, recipient
WHATSAPP_MAX_CHARS = 4096
SEVERITY_MARK = {Severity.CRITICO: "🔴", Severity.ALTO: "🟠", Severity.MEDIO: "🟡", Severity.OK: "🟢"}


@dataclass(frozen=True)
class AlertLine:
    material_id: str
    description: str
    severity: Severity
    message: str
    action: str
    detail: str
    escalated_from: Severity | None = None


@dataclass(frozen=True)
class Digest:
    cycle_date: date
    channel: str
    recipient: str
    lines: tuple[AlertLine, ...]
    stale_warning: str = ""

    @property
    def kind(self) -> str:
        return "escalation" if any(line.escalated_from for line in self.lines) else "alert"

    @property
    def material_ids(self) -> list[str]:
        return [line.material_id for line in self.lines]


def plan(
    alerts: pd.DataFrame,
    routing: Routing,
    channels: list[str],
    sent_today: dict[Key, Severity],
    last_before: dict[Key, Severity],
) -> list[Digest]:
    """Digests for `channels` from today's alerts (material_id, description, severity, message,
    action, detail, category, site_id, cycle_date, stale_warning), after dedupe and escalation."""
    if alerts.empty:
        return []
    cycle_date = pd.Timestamp(alerts["cycle_date"].iloc[0]).date()
    warning = str(alerts["stale_warning"].iloc[0] or "")
    ordered = alerts.assign(rank=alerts["severity"].map(lambda s: Severity(s).rank)).sort_values(
        ["rank", "material_id"], ascending=[False, True]
    )
    groups: dict[tuple[str, str], list[AlertLine]] = {}
    for row in ordered.itertuples(index=False):
        severity = Severity(row.severity)
        for channel in channels:
            for recipient in routing.recipients(channel, severity, row.category, row.site_id):
                key = (row.material_id, channel, recipient)
                already = sent_today.get(key)
                if already is not None and severity.rank <= already.rank:
                    continue
                previous = already or last_before.get(key)
                rose = previous if previous is not None and previous.rank < severity.rank else None
                line = AlertLine(row.material_id, row.description, severity, row.message, row.action, row.detail, rose)
                groups.setdefault((channel, recipient), []).append(line)
    return [Digest(cycle_date, ch, rcpt, tuple(lines), warning) for (ch, rcpt), lines in groups.items()]


def _headline(line: AlertLine) -> str:
    escalation = f" (ESCALONAMENTO: {line.escalated_from} → {line.severity})" if line.escalated_from else ""
    return f"{line.severity}{escalation} {line.material_id} {line.description}"


def subject(digest: Digest) -> str:
    counts = pd.Series([str(line.severity) for line in digest.lines]).value_counts()
    summary = ", ".join(f"{n} {sev}" for sev, n in counts.items())
    prefix = "ESCALONAMENTO - " if digest.kind == "escalation" else ""
    return f"[Nova Corrente] {prefix}Alertas de estoque {digest.cycle_date:%d/%m/%Y}: {summary}"


def email_text(digest: Digest) -> str:
    parts = [f"Alertas de estoque do ciclo {digest.cycle_date:%d/%m/%Y}", ""]
    if digest.stale_warning:
        parts += [digest.stale_warning, ""]
    for line in digest.lines:
        parts += [_headline(line), f"  {line.message}", f"  Ação: {line.action}"]
        if line.detail:
            parts.append(f"  {line.detail}")
        parts.append("")
    parts.append("Relatório diário em anexo (PDF) quando disponível. Mensagem automática - Nova Corrente.")
    return "\n".join(parts)


def email_html(digest: Digest) -> str:
    from html import escape

    colours = {Severity.CRITICO: "#c62828", Severity.ALTO: "#ef6c00", Severity.MEDIO: "#f9a825", Severity.OK: "#2e7d32"}
    rows = "".join(
        f"<tr><td style='color:{colours[line.severity]};font-weight:bold'>{escape(str(line.severity))}"
        + (f"<br><small>escalonado de {escape(str(line.escalated_from))}</small>" if line.escalated_from else "")
        + f"</td><td>{escape(line.material_id)}<br><small>{escape(line.description)}</small></td>"
        f"<td>{escape(line.message)}</td><td><b>{escape(line.action)}</b><br><small>{escape(line.detail)}</small></td></tr>"
        for line in digest.lines
    )
    warning = (
        f"<p style='background:#fff3cd;padding:8px;border:1px solid #f0c36d'>{escape(digest.stale_warning)}</p>"
        if digest.stale_warning
        else ""
    )
    return (
        "<html><body style='font-family:Arial,sans-serif'>"
        f"<h2>Alertas de estoque - ciclo {digest.cycle_date:%d/%m/%Y}</h2>{warning}"
        "<table border='1' cellpadding='6' cellspacing='0' style='border-collapse:collapse'>"
        "<tr><th>Severidade</th><th>Material</th><th>Situação</th><th>Ação</th></tr>"
        f"{rows}</table><p><small>Mensagem automática - Nova Corrente.</small></p></body></html>"
    )


def whatsapp_text(digest: Digest, limit: int = WHATSAPP_MAX_CHARS) -> str:
    """Short lines, most severe first; cut with a pointer to the e-mail when over the API limit."""
    head = f"*Nova Corrente - alertas de estoque {digest.cycle_date:%d/%m/%Y}*"
    if digest.stale_warning:
        head += f"\n⚠️ {digest.stale_warning}"
    lines = [
        f"{SEVERITY_MARK[line.severity]} {_headline(line)}\n{line.message} → {line.action}" for line in digest.lines
    ]
    text = head
    for i, line in enumerate(lines):
        tail = f"\n\n… e mais {len(lines) - i} alertas (ver e-mail e painel)"
        if len(text) + 2 + len(line) + len(tail) > limit:
            return text + tail
        text += "\n\n" + line
    return text
