"""Raw ERP tables from the export files in the landing folder (real or the synthetic sample).

New files are registered by content hash and kept in bronze (`lib.sources.erp_store`); every raw table
is rebuilt from all accepted files (`lib.sources.erp_import`, tables in parallel, out of core),
checked, and written only if no blocking check fails. Bad rows go to `quarantine/erp_rows`;
unreadable files are moved to `<landing>/erp/rejected/`. `nova erp import` runs this asset alone.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from nova_assets.defs.ingest.checks import check_results, check_specs, publish, raw_key
from nova_assets.lib.lake_tables import ERP_QUARANTINED_ROWS, ERP_REJECTED_FILES, raw
from nova_assets.lib.sources.erp_files import ERP_TABLES
from nova_assets.lib.sources.erp_import import held_back_rows, import_report, published_provenance, rebuild_tables
from nova_assets.lib.sources.erp_store import ErpProvenance, ErpStore, IngestReport
from nova_assets.lib.sources.landing import LandingError
from nova_assets.resources import LakeResource, SourcesResource

QUARANTINE_KEY = dg.AssetKey(list(ERP_QUARANTINED_ROWS.asset))
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
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Load new landing files into the ERP store, then rebuild, check and publish each selected table.

    Checks run without their table (the Dagster UI's "Execute" on a check) rebuild it from the files
    the store already has and report the checks on that candidate; nothing is loaded or written."""
    limits = sources.erp_limits
    store = ErpStore.in_lake(lake.root)
    selected = context.selected_asset_keys
    checked = {key.asset_key for key in context.selected_asset_check_keys}
    problems: list[str] = []
    try:
        report = store.ingest(sources.erp_dir) if selected else IngestReport()
    except LandingError as exc:  # the folder cannot be listed: load nothing new, rebuild from what is stored
        problems.append(str(exc))
        report = IngestReport()
    _log(context, report, problems)
    run_summary = {
        "files_new": [f"{f.file_name} ({f.good_rows} rows, {f.quarantined_rows} quarantined)" for f in report.loaded],
        "files_already_loaded": _capped(report.skipped),
        "files_rejected": report.errors(),
        **({"files_ignored": report.ignored} if report.ignored else {}),
        **({"files_unreadable": report.unreadable} if report.unreadable else {}),
        **({"landing_problems": problems} if problems else {}),
    }
    work = store.root / "build"
    shutil.rmtree(work, ignore_errors=True)
    try:
        results = rebuild_tables(
            store,
            work,
            as_of=sources.as_of,
            limits=limits,
            previous=lambda table: _stored(lake, table),
            rejected=report.rejected,
            tables=[t for t in ERP_TABLES if raw_key(t) in selected | checked],
        )
        for table, result in results.items():
            if raw_key(table) not in selected:  # its checks alone
                yield from check_results(context, table, result.outcomes)
                continue
            files = result.files
            provenance = ErpProvenance.of(files)  # of `files`: how many are the generated sample's
            rejected_here = [r for r in report.rejected if r.table == table]
            metadata = {
                "as_of": str(sources.as_of),
                "files": len(files),
                "data": provenance.describe(),  # SYNTHETIC when built from the sample's files
                "sample_files": provenance.synthetic,
                "latest_files": dg.MetadataValue.md(
                    "\n".join(
                        f"- {f.file_name} (loaded {f.loaded_at}, {f.good_rows} rows, {f.quarantined_rows} "
                        f"quarantined, sha256 {f.content_hash[:12]})"
                        for f in files[-SHOWN:]
                    )
                    or "none"
                ),
                **(
                    {"replaced_rows_by_file": dg.MetadataValue.json(result.build.replaced)}
                    if result.build and result.build.replaced
                    else {}
                ),
                **{
                    key: dg.MetadataValue.json(value) if isinstance(value, list) else value
                    for key, value in run_summary.items()
                },
            }
            warning = "; ".join(r.message("ERP file") for r in rejected_here) or None
            latest = result.build.facts.get("latest") if result.build else None
            yield publish(
                context,
                lake,
                table,
                result.path,
                result.outcomes,
                metadata,
                origin=result.origin,
                warning=warning,
                latest=None if latest is None else latest.date() if hasattr(latest, "date") else latest,
                built_from=result.built_from,
            )
        if QUARANTINE_KEY in selected:  # after the tables: the report says what the published ones are built from
            data = published_provenance(lake.root).describe()
            yield _quarantine(lake, store, results, report, data, problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _stored(lake: LakeResource, table: str) -> Path | None:
    """The last good raw table, which the rebuild keeps when a new build is blocked and checks the others
    against. Read by path: it is this multi-asset's own output even when the run selects a subset of it."""
    path = lake.path(raw(table))
    return path if path.exists() else None


def _quarantine(
    lake: LakeResource, store: ErpStore, results, report: IngestReport, data: str, problems
) -> dg.MaterializeResult:
    quarantine = store.quarantine(held_back_rows(results))
    rejected = store.rejected_files()
    lake.write(ERP_QUARANTINED_ROWS, quarantine)
    lake.write(ERP_REJECTED_FILES, rejected)
    return dg.MaterializeResult(
        asset_key=QUARANTINE_KEY,
        metadata={
            "rows": len(quarantine),
            "by_table": dg.MetadataValue.json(quarantine["table"].value_counts().to_dict()),
            "rejected_files": len(rejected),
            "withdrawn_files": dg.MetadataValue.json(
                [f"{f.file_name} ({f.content_hash[:12]}, withdrawn {f.withdrawn_at})" for f in store.withdrawn()]
            ),
            "latest": dg.MetadataValue.md(
                quarantine.tail(20).drop(columns="raw_row").to_markdown(index=False) if len(quarantine) else "none"
            ),
            **({"rejected": dg.MetadataValue.md(rejected.tail(20).to_markdown(index=False))} if len(rejected) else {}),
            "import_report": dg.MetadataValue.json(import_report(store, report, results, data, problems)),
        },
    )


def _capped(items: list[str]) -> list[str]:
    """At most SHOWN entries in metadata; a landing folder can hold years of daily files."""
    return items if len(items) <= SHOWN else [*items[:SHOWN], f"... and {len(items) - SHOWN} more"]


def _log(context: dg.AssetExecutionContext, report: IngestReport, problems: list[str]) -> None:
    for line in [*problems, *report.errors()]:
        context.log.error(line)
    for entry in report.loaded:
        context.log.info(
            f"loaded {entry.file_name} into {entry.table}: {entry.good_rows} rows, {entry.quarantined_rows} quarantined"
        )
        for warning in entry.warnings:
            context.log.warning(warning)
    if report.skipped:
        context.log.info(f"already loaded, skipped: {', '.join(_capped(report.skipped))}")
    if report.ignored:
        context.log.warning(f"ignored (the name matches no ERP table): {', '.join(report.ignored)}")
    for line in report.unreadable:
        context.log.warning(line)
    if report.replayed:
        context.log.info(f"re-parsed with the current parser: {', '.join(report.replayed)}")
