"""Alert delivery: e-mail and WhatsApp digests, logged in Postgres, retried hourly until sent."""

import dagster as dg
import pandas as pd

from nova_assets.defs.delivery.resources import DeliveryConfig, SmtpResource, WhatsAppResource
from nova_assets.defs.gold.base.postgres import gold_connection
from nova_assets.lib.delivery.dispatch import dispatch
from nova_assets.lib.lake_tables import ALERTS, DAILY_REPORT, ERP_MATERIALS, daily_report
from nova_assets.lib.local_time import TIMEZONE_NAME
from nova_assets.resources import LakeResource, PostgresResource, lake_deps


@dg.asset(
    key_prefix="delivery",
    deps=[dg.AssetKey(["gold", "alerts"]), *lake_deps(ALERTS, ERP_MATERIALS, DAILY_REPORT)],
    kinds={"email", "postgres"},
)
def alert_dispatch(
    context: dg.AssetExecutionContext,
    lake: LakeResource,
    gold: PostgresResource,
    smtp: SmtpResource,
    whatsapp: WhatsAppResource,
    delivery: DeliveryConfig,
) -> dg.MaterializeResult:
    """Today's alerts to their recipients (routing file), one digest per channel and recipient,
    deduplicated per material and day, escalations when severity rises; then every message still
    due is (re)tried. A channel without credentials is skipped with a note; send failures are
    logged in support.delivery_log for the next try, never raised."""
    alerts = lake.read(ALERTS)
    descriptions = lake.read(ERP_MATERIALS, ["material_id", "description"])
    alerts = alerts.merge(descriptions, on="material_id", how="left").fillna({"description": ""})
    cycle_date = pd.Timestamp(alerts["cycle_date"].iloc[0]).date()
    report = daily_report(cycle_date)
    pdf = lake.path(report)
    with gold_connection(gold) as conn:
        conn.autocommit = True  # each enqueue and status change commits on its own
        result = dispatch(
            conn,
            alerts,
            delivery.routing,
            smtp.settings,
            whatsapp.settings,
            attachment=pdf if lake.exists(report) else None,
            max_attempts=int(delivery.max_attempts),
        )
        status = dict(
            conn.execute(
                "SELECT status, count(*) FROM support.delivery_log WHERE cycle_date = %s GROUP BY status",
                (cycle_date,),
            ).fetchall()
        )
    for note in result.notes:
        context.log.warning(note)
    return dg.MaterializeResult(
        metadata={
            "cycle_date": str(cycle_date),
            "digests_queued": result.queued,
            "sent": result.sent,
            "failed_will_retry": result.failed,
            "dead": result.dead,
            "log_status_today": {k: int(v) for k, v in status.items()},
            "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in result.notes) or "none"),
        }
    )


alert_delivery_retry = dg.define_asset_job(
    "alert_delivery_retry",
    selection=dg.AssetSelection.assets(alert_dispatch),
    description="Re-send what is still due in support.delivery_log (and anything new for today's alerts).",
)

alert_delivery_retry_schedule = dg.ScheduleDefinition(
    name="alert_delivery_retry_hourly",
    description="Every hour at :30 America/Bahia: re-sends what is still due in support.delivery_log.",
    job=alert_delivery_retry,
    cron_schedule="30 * * * *",
    execution_timezone=TIMEZONE_NAME,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
