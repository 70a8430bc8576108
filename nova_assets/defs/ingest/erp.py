"""Raw ERP tables from the export files in the landing folder (real or the synthetic sample)."""

import dagster as dg
import pandas as pd

from nova_assets.lib.sources.erp_files import ERP_TABLES, classify_erp_file, read_erp_file
from nova_assets.resources import LakeResource, SourcesResource


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", table],
            group_name="ingest",
            kinds={"python", "parquet"},
            description=f"ERP {table.removeprefix('erp_').replace('_', ' ')}: validated rows; bad rows quarantined",
        )
        for table in ERP_TABLES
    ],
    can_subset=True,
)
def erp_tables(context: dg.AssetExecutionContext, sources: SourcesResource, lake: LakeResource):
    """Import every landing file; bad rows go to quarantine, unreadable files keep the last good table."""
    files = sorted(p for p in sources.erp_dir.rglob("*") if p.is_file() and classify_erp_file(p))
    good: dict[str, list[pd.DataFrame]] = {t: [] for t in ERP_TABLES}
    quarantined: dict[str, list[pd.DataFrame]] = {t: [] for t in ERP_TABLES}
    file_errors = []
    for path in files:
        table = classify_erp_file(path)
        result = read_erp_file(path, table)
        if result.file_error:
            context.log.error(result.file_error)
            file_errors.append(result.file_error)
            continue
        good[table].append(result.good)
        quarantined[table].append(result.quarantine.assign(table=table))
    all_quarantined = [q for qs in quarantined.values() for q in qs if len(q)]
    if all_quarantined:
        lake.write("quarantine", "erp_rows", pd.concat(all_quarantined, ignore_index=True))

    for table in ERP_TABLES:
        key = dg.AssetKey(["raw", table])
        if key not in context.selected_asset_keys:
            continue
        if not good[table]:
            context.log.warning(f"no readable {table} file in {sources.erp_dir}: keeping the last good table")
            yield dg.MaterializeResult(
                asset_key=key, metadata={"status": "no new data; last good table kept", "file_errors": file_errors}
            )
            continue
        frame = pd.concat(good[table], ignore_index=True).drop_duplicates(ignore_index=True)
        lake.write("raw", table, frame)
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "rows": len(frame),
                "files": len(good[table]),
                "quarantined_rows": sum(len(q) for q in quarantined[table]),
                "file_errors": file_errors,
                "preview": dg.MetadataValue.md(frame.head(5).to_markdown(index=False)),
            },
        )
