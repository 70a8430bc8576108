"""Raw ERP tables from the export files in the landing folder (real or the synthetic sample)."""

import dagster as dg
import pandas as pd

from nova_assets.lib.sources.erp_files import ERP_TABLES, classify_erp_file, read_erp_file
from nova_assets.resources import LakeResource, SourcesResource

ERP_RAW = {  # landing table -> raw table
    "materials": "erp_materials",
    "sites": "erp_sites",
    "suppliers": "erp_suppliers",
    "movements": "erp_movements",
    "stock_on_hand": "erp_stock",
    "open_orders": "erp_open_orders",
}


@dg.multi_asset(
    specs=[dg.AssetSpec(["raw", raw], group_name="ingest", kinds={"python", "parquet"},
                        description=f"ERP {table.replace('_', ' ')}, validated; bad rows quarantined")
           for table, raw in ERP_RAW.items()],
    can_subset=True,
)
def erp_tables(context: dg.AssetExecutionContext, sources: SourcesResource, lake: LakeResource):
    """Import every landing file; bad rows go to quarantine, unreadable files keep the last good table."""
    files = sorted(p for p in sources.erp_dir.rglob("*") if p.is_file() and classify_erp_file(p) in ERP_RAW)
    good: dict[str, list[pd.DataFrame]] = {t: [] for t in ERP_RAW}
    quarantine, file_errors = [], []
    for path in files:
        table = classify_erp_file(path)
        result = read_erp_file(path, table)
        if result.file_error:
            context.log.error(result.file_error)
            file_errors.append(result.file_error)
            continue
        good[table].append(result.good)
        if len(result.quarantine):
            quarantine.append(result.quarantine.assign(table=table))
    if quarantine:
        lake.write("quarantine", "erp_rows", pd.concat(quarantine, ignore_index=True))

    for table, raw in ERP_RAW.items():
        key = dg.AssetKey(["raw", raw])
        if key not in context.selected_asset_keys:
            continue
        if not good[table]:
            context.log.warning(f"no readable {table} file in {sources.erp_dir}: keeping the last good {raw}")
            yield dg.MaterializeResult(asset_key=key, metadata={"status": "no new data; last good table kept",
                                                                "file_errors": file_errors})
            continue
        frame = pd.concat(good[table], ignore_index=True).drop_duplicates(ignore_index=True)
        lake.write("raw", raw, frame[[*ERP_TABLES[table].columns, *(["source_file"] if "source_file" in frame else [])]])
        n_quarantined = sum(len(q) for q in quarantine if q["table"].iloc[0] == table)
        yield dg.MaterializeResult(asset_key=key, metadata={
            "rows": len(frame), "files": len(good[table]), "quarantined_rows": n_quarantined,
            "file_errors": file_errors, "preview": dg.MetadataValue.md(frame.head(5).to_markdown(index=False)),
        })
