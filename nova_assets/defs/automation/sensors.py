"""A new or changed ERP export in the landing folder starts the daily cycle without waiting for midnight."""

import hashlib
import json

import dagster as dg

from nova_assets.defs.automation.schedules import daily_cycle
from nova_assets.defs.partitions import daily_partitions
from nova_assets.lib.sources.landing import landing_files
from nova_assets.resources import SourcesResource


def landing_signature(sources: SourcesResource) -> dict[str, str]:
    """Size and modification time per landing file: cheap to read each tick; the ERP store hashes contents."""
    signature = {}
    for path in landing_files(sources.erp_dir):
        stat = path.stat()
        signature[str(path.relative_to(sources.erp_dir))] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return signature


@dg.sensor(job=daily_cycle, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def erp_landing_sensor(context: dg.SensorEvaluationContext, sources: SourcesResource):
    """Request one cycle per set of new or changed files (the run key makes a re-evaluation harmless)."""
    seen = json.loads(context.cursor) if context.cursor else {}
    current = landing_signature(sources)
    changed = sorted(name for name, stamp in current.items() if seen.get(name) != stamp)
    context.update_cursor(json.dumps(current))
    if not changed:
        return dg.SkipReason(f"no new or changed ERP export in {sources.erp_dir}")
    run_key = hashlib.sha256(json.dumps({name: current[name] for name in changed}).encode()).hexdigest()
    return dg.RunRequest(
        run_key=run_key,
        partition_key=daily_partitions.get_last_partition_key(),
        tags={"nova/trigger": "erp_landing", "nova/files": ", ".join(changed)[:200]},
    )
