"""Raw ERP tables from the export files in the landing folder (real or the synthetic sample).

New files are registered by content hash and kept in bronze (`lib.sources.erp_store`); every raw table
is rebuilt from all accepted files, checked, and written only if no blocking check fails. Bad rows
go to `quarantine/erp_rows`; unreadable files are moved to `<landing>/erp/rejected/`.
"""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from nova_assets.defs.ingest.checks import check_specs, publish, raw_key
from nova_assets.lib.lake_tables import ERP_QUARANTINED_ROWS, ERP_REJECTED_FILES, raw
from nova_assets.lib.sources.erp_files import ERP_TABLES
from nova_assets.lib.sources.erp_store import ErpStore, IngestReport, empty_table
from nova_assets.lib.sources.quality import CheckContext, evaluate
from nova_assets.resources import LakeResource, SourcesResource

QUARANTINE_KEY = dg.AssetKey(list(ERP_QUARANTINED_ROWS.asset))
NEEDS_MASTERS = {"erp_movements", "erp_stock", "erp_open_orders", "erp_purchase_orders"}
SHOWN = 20  # files listed in metadata


@dg.multi_asset(
    specs=[
        *(
            dg.AssetSpec(
                raw_key(table),
                kinds={"python", "parquet"},
                description=f"ERP {table.removeprefix('erp_').replace('_', ' ')}: rebuilt from every accepted "
                "export file; bad rows quarantined",
                skippable=True,
            )
            for table in ERP_TABLES
        ),
        dg.AssetSpec(
            QUARANTINE_KEY,
            kinds={"python", "parquet"},
            description="ERP rows that were not loaded (table, file, line, reason, raw text), kept across runs; "
            "files rejected as a whole are in quarantine/erp_rejected_files.parquet",
            skippable=True,
        ),
    ],
    check_specs=[spec for table in ERP_TABLES for spec in check_specs(table)],
    can_subset=True,
)
def erp_tables(
    context: dg.AssetExecutionContext, sources: SourcesResource, lake: LakeResource
) -> Iterator[dg.MaterializeResult]:
    """Load new landing files into the ERP store, then rebuild, check and publish each selected table."""
    as_of = sources.as_of
    store = ErpStore(lake.bronze("erp"))
    report = store.ingest(sources.erp_dir)
    _log(context, report)
    run_summary = {
        "files_new": [f"{f.file_name} ({f.good_rows} rows, {f.quarantined_rows} quarantined)" for f in report.loaded],
        "files_already_loaded": _capped(report.skipped),
        "files_rejected": report.errors(),
        **({"files_ignored": report.ignored} if report.ignored else {}),
        **({"data": "SYNTHETIC sample (see landing/SYNTHETIC_DATA.txt)"} if sources.is_synthetic else {}),
    }
    tables: dict[str, tuple[pd.DataFrame, str]] = {}

    def table_of(name: str) -> tuple[pd.DataFrame, str]:
        if name not in tables:
            frame = store.build_table(name)
            previous = lake.read_if_exists(raw(name)) if frame is None else None
            if frame is not None:
                tables[name] = frame, f"{len(store.files(name))} accepted ERP file(s)"
            elif previous is not None:
                tables[name] = previous, "previous raw table (no accepted file in the store)"
            else:
                tables[name] = empty_table(name), "no ERP file yet"
        return tables[name]

    selected = context.selected_asset_keys
    if QUARANTINE_KEY in selected:
        quarantine = store.quarantine()
        rejected = store.rejected_files()
        lake.write(ERP_QUARANTINED_ROWS, quarantine)
        lake.write(ERP_REJECTED_FILES, rejected)
        yield dg.MaterializeResult(
            asset_key=QUARANTINE_KEY,
            metadata={
                "rows": len(quarantine),
                "by_table": dg.MetadataValue.json(quarantine["table"].value_counts().to_dict()),
                "rejected_files": len(rejected),
                "latest": dg.MetadataValue.md(
                    quarantine.tail(20).drop(columns="raw_row").to_markdown(index=False) if len(quarantine) else "none"
                ),
                **(
                    {"rejected": dg.MetadataValue.md(rejected.tail(20).to_markdown(index=False))}
                    if len(rejected)
                    else {}
                ),
            },
        )
    for table in ERP_TABLES:
        if raw_key(table) not in selected:
            continue
        frame, origin = table_of(table)
        files = store.files(table)
        rejected_here = [r for r in report.rejected if r.table == table]
        needs_masters = table in NEEDS_MASTERS
        check_context = CheckContext(
            as_of=as_of,
            origin=origin,
            materials=frozenset(table_of("erp_materials")[0]["material_id"].dropna()) if needs_masters else None,
            sites=frozenset(table_of("erp_sites")[0]["site_id"].dropna()) if needs_masters else None,
            good_rows=sum(f.good_rows for f in files) if files else None,
            quarantined_rows=sum(f.quarantined_rows for f in files),
            rejected_files=[r.reason for r in rejected_here],
        )
        outcomes = evaluate(table, frame, check_context)
        metadata = {
            "as_of": str(as_of),
            "files": len(files),
            "latest_files": dg.MetadataValue.md(
                "\n".join(
                    f"- {f.file_name} (loaded {f.loaded_at}, {f.good_rows} rows, {f.quarantined_rows} "
                    f"quarantined, sha256 {f.content_hash[:12]})"
                    for f in files[-SHOWN:]
                )
                or "none"
            ),
            **{
                key: dg.MetadataValue.json(value) if isinstance(value, list) else value
                for key, value in run_summary.items()
            },
        }
        warning = "; ".join(f"{r.reason} (moved to {r.moved_to})" for r in rejected_here) or None
        yield publish(context, lake, table, frame, outcomes, metadata, origin=origin, warning=warning)


def _capped(items: list[str]) -> list[str]:
    """At most SHOWN entries in metadata; a landing folder can hold years of daily files."""
    return items if len(items) <= SHOWN else [*items[:SHOWN], f"... and {len(items) - SHOWN} more"]


def _log(context: dg.AssetExecutionContext, report: IngestReport) -> None:
    for line in report.errors():
        context.log.error(line)
    for entry in report.loaded:
        context.log.info(
            f"loaded {entry.file_name} into {entry.table}: {entry.good_rows} rows, {entry.quarantined_rows} quarantined"
        )
    if report.skipped:
        context.log.info(f"already loaded, skipped: {', '.join(report.skipped)}")
    if report.ignored:
        context.log.warning(f"ignored (the name matches no ERP table): {', '.join(report.ignored)}")
    if report.replayed:
        context.log.info(f"re-parsed with the current parser: {', '.join(report.replayed)}")
