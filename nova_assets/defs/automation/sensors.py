"""Sensors: a new ERP export starts the cycle without waiting for midnight; a failed run is e-mailed."""

import hashlib
import json
from html import escape
from pathlib import Path

import dagster as dg

from nova_assets.defs.automation.resources import OpsAlertConfig
from nova_assets.defs.automation.schedules import daily_cycle
from nova_assets.defs.delivery.resources import SmtpResource
from nova_assets.defs.partitions import daily_partitions
from nova_assets.lib.delivery.email import build_message, send
from nova_assets.lib.sources.erp_store import ErpStore
from nova_assets.lib.sources.landing import file_content_hash, landing_files
from nova_assets.resources import LakeResource, SourcesResource


def landing_signature(sources: SourcesResource) -> dict[str, str]:
    """Size and modification time per landing file: cheap to read each tick; only a changed one is hashed."""
    signature = {}
    for path in landing_files(sources.erp_dir):
        stat = path.stat()
        signature[str(path.relative_to(sources.erp_dir))] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return signature


@dg.sensor(
    job=daily_cycle,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Each minute: a new ERP export in the landing folder (content the ERP store has not registered,"
    " unchanged for a minute) starts the daily cycle for the last day, without waiting for midnight.",
)
def erp_landing_sensor(context: dg.SensorEvaluationContext, sources: SourcesResource, lake: LakeResource):
    """Request one cycle per set of new files. A file counts once its size and time are the same at two
    ticks in a row (an export still being copied in waits), and only if the ERP store has not registered
    its content (a file `make run` loaded, a copy, a touch start no cycle); the run key makes a
    re-evaluation harmless."""
    state = json.loads(context.cursor) if context.cursor else {}
    if state and "seen" not in state:  # the earlier cursor: the stamps it had handled
        state = {"seen": state, "handled": state}
    seen, handled = state.get("seen", {}), state.get("handled", {})
    current = landing_signature(sources)
    settling = sorted(name for name, stamp in current.items() if seen.get(name) != stamp)
    ready = sorted(name for name, stamp in current.items() if seen.get(name) == stamp != handled.get(name))
    known = ErpStore.in_lake(lake.lake_dir).landing.known() if ready else {}
    new: dict[str, str] = {}
    for name in ready:
        try:
            content = file_content_hash(Path(sources.erp_dir) / name)
        except OSError:  # gone or unreadable since the listing: the next tick or the import says so
            continue
        handled[name] = current[name]
        if content not in known:
            new[name] = content
    context.update_cursor(json.dumps({"seen": current, "handled": {n: s for n, s in handled.items() if n in current}}))
    if new:
        return dg.RunRequest(
            run_key=hashlib.sha256(json.dumps(new, sort_keys=True).encode()).hexdigest(),
            partition_key=daily_partitions.get_last_partition_key(),
            tags={"nova/trigger": "erp_landing", "nova/files": ", ".join(new)[:200]},
        )
    if settling:
        return dg.SkipReason(
            f"new or changed since the last tick, read once they stop changing: {', '.join(settling[:5])}"
        )
    return dg.SkipReason(f"no new ERP export in {sources.erp_dir}")


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="E-mails NOVA_OPS_EMAIL when any run fails (needs the NOVA_SMTP_* settings).",
)
def run_failure_alert(context: dg.RunFailureSensorContext, smtp: SmtpResource, ops: OpsAlertConfig) -> None:
    """An operational alert by e-mail when any run fails, so a broken night is known before 8 a.m."""
    run = context.dagster_run
    subject = f"[Nova Corrente] FALHA na execução {run.job_name} ({run.run_id[:8]})"
    text = f"A execução {run.run_id} do job {run.job_name} falhou.\n\n{context.failure_event.message or ''}\n"
    recipients = [r.strip() for r in ops.recipients.split(",") if r.strip()]
    settings = smtp.settings
    if not recipients or settings.missing:
        context.log.warning(f"run failure not e-mailed (set NOVA_OPS_EMAIL and the NOVA_SMTP_* settings): {subject}")
        return
    for recipient in recipients:
        send(settings, build_message(settings.sender, recipient, subject, text, f"<pre>{escape(text)}</pre>"))
