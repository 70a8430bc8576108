"""One ERP import: rebuild every raw ERP table from the store and check it, tables in parallel.

The masters (materials, sites, suppliers) are built first, each on its own DuckDB cursor, then the
installed base (the master of the work orders' equipment); the tables that name materials, sites and
equipment are then built against the masters that will stand after this run (the new one when its
checks pass, else the last good raw table). Every table is written to a work folder;
the caller publishes it, or keeps the previous table when a blocking check failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from nova_assets.lib.lake_tables import raw
from nova_assets.lib.sources.erp_build import BuildContext, TableBuild, build_table, table_facts
from nova_assets.lib.sources.erp_files import ERP_TABLES, erp_duckdb, quarantine_path
from nova_assets.lib.sources.erp_limits import ErpLimits
from nova_assets.lib.sources.erp_store import NO_FILES, ErpProvenance, ErpStore, IngestReport, LoadedFile
from nova_assets.lib.sources.landing import RejectedFile
from nova_assets.lib.sources.quality import CheckContext, CheckOutcome, erp_outcomes, read_built_from

MASTERS = ("erp_materials", "erp_sites", "erp_suppliers")


@dataclass
class TableResult:
    """One rebuilt table, where it came from, and its checks."""

    table: str
    path: Path  # the table to publish: a built file in the work folder, or the previous raw table
    origin: str
    outcomes: list[CheckOutcome]
    files: list[LoadedFile] = field(default_factory=list)
    build: TableBuild | None = None

    @property
    def blocked(self) -> bool:
        return any(o.blocking and not o.passed for o in self.outcomes)

    @property
    def built_from(self) -> dict[str, int] | None:
        """The provenance of a rebuilt table's files, recorded with it when published
        (`published_provenance`); None when the previous table stands as it was."""
        return asdict(ErpProvenance.of(self.files)) if self.build is not None else None


def published_provenance(lake_dir: Path) -> ErpProvenance:
    """Where the files of the ERP tables now in the lake came from, from the record each table is
    published with: a table kept after a blocked rebuild keeps the record of the files it holds. The
    ERP store's record of its files when a table was published before tables carried one."""
    total = NO_FILES
    for table in ERP_TABLES:
        if not (lake_dir / raw(table).path).exists():  # never published
            continue
        record = read_built_from(lake_dir, table)
        try:
            total += ErpProvenance(**record)
        except TypeError:  # no record, or one of another shape
            return ErpStore.in_lake(lake_dir).provenance()
    return total


def rebuild_tables(
    store: ErpStore,
    work: Path,
    *,
    as_of: date,
    limits: ErpLimits,
    previous: Callable[[str], Path | None],
    rejected: Sequence[RejectedFile] = (),
    tables: Sequence[str] = tuple(ERP_TABLES),
) -> dict[str, TableResult]:
    """Rebuild `tables` (and the masters they need) into `work`; `previous(table)` is the last good raw table."""
    wanted = [t for t in ERP_TABLES if t in tables]
    masters = list(MASTERS)  # built whatever is selected: the other tables are checked against them
    with erp_duckdb(work / "duckdb") as con:

        def one(table: str, context: BuildContext) -> TableResult:
            with con.cursor() as cursor:
                return _rebuild(cursor, store, table, work, context, previous, rejected, limits)

        with ThreadPoolExecutor(min(store.workers, len(MASTERS))) as pool:
            done = dict(zip(masters, pool.map(lambda t: one(t, BuildContext(as_of, {}, limits)), masters), strict=True))
        standing = {}
        for master in ("erp_materials", "erp_sites"):
            result = done[master]
            path = result.path if not result.blocked else previous(master)
            if path is not None:
                standing[master] = path
        context = BuildContext(as_of, standing, limits)
        # the installed base is the master of the work orders' equipment: built before them
        if "erp_installed_base" in wanted:
            done["erp_installed_base"] = one("erp_installed_base", context)
        base = done.get("erp_installed_base")
        base_path = base.path if base is not None and not base.blocked else previous("erp_installed_base")
        if base_path is not None:
            context = BuildContext(as_of, {**standing, "erp_installed_base": base_path}, limits)
        rest = [t for t in wanted if t not in done]

        def attempt(table: str) -> TableResult | None:
            try:
                return one(table, context)
            except duckdb.OutOfMemoryException:  # two large builds did not fit together: alone, below
                return None

        with ThreadPoolExecutor(max(1, min(store.workers, len(rest)))) as pool:
            done.update((t, r) for t, r in zip(rest, pool.map(attempt, rest), strict=True) if r is not None)
        for table in rest:
            if table not in done:
                done[table] = one(table, context)
    return {t: done[t] for t in wanted}


def _rebuild(
    con: duckdb.DuckDBPyConnection,
    store: ErpStore,
    table: str,
    work: Path,
    context: BuildContext,
    previous: Callable[[str], Path | None],
    rejected: Sequence[RejectedFile],
    limits: ErpLimits,
) -> TableResult:
    files = store.files(table)
    ever_loaded = any(entry.table == table for entry in store.landing.entries())
    target = work / f"{table}.parquet"
    build: TableBuild | None = None
    last_good = previous(table)
    if files or ever_loaded or last_good is None:
        build = build_table(con, table, store.sources(table), context, target)
        path = target
        origin = (
            f"{len(files)} accepted ERP file(s)"
            if files
            else "no ERP file yet"
            if not ever_loaded
            else ("no ERP file left (every file withdrawn)")
        )
        facts = build.facts
    else:
        path, origin = last_good, "previous raw table (no accepted file in the store)"
        facts = table_facts(con, table, last_good, context)
    held_back = build.held_back if build else {}
    check_context = CheckContext(
        as_of=context.as_of or date.today(),
        origin=origin,
        good_rows=sum(f.good_rows for f in files) if files else None,
        quarantined_rows=sum(f.quarantined_rows for f in files) + sum(held_back.values()),
        rejected_files=[r.reason for r in rejected if r.table == table],
    )
    outcomes = erp_outcomes(
        table,
        facts,
        held_back,
        build.held_back_examples if build else {},
        build.removals if build else [],
        check_context,
        limits.max_held_back_share,
    )
    return TableResult(table, path, origin, outcomes, files, build)


def held_back_rows(results: Mapping[str, TableResult]) -> list[tuple[str, pd.DataFrame]]:
    """(table, held-back rows) of every rebuilt table, for the quarantine."""
    return [(t, r.build.quarantine) for t, r in results.items() if r.build is not None and len(r.build.quarantine)]


def import_report(
    store: ErpStore,
    ingest: IngestReport,
    results: Mapping[str, TableResult],
    data: str,
    problems: Sequence[str] = (),
) -> dict[str, object]:
    """What an ERP administrator wants to read after dropping exports: per file what was loaded,
    quarantined (with reasons) and rejected; per table whether it was written and what was held back;
    `data`, where the files the tables are built from came from (ErpProvenance.describe)."""
    loaded = []
    for entry in ingest.loaded:
        quarantine = pd.read_parquet(quarantine_path(store.root / "parsed" / entry.content_hash))
        loaded.append(
            {
                "file": entry.file_name,
                "table": entry.table,
                "content_hash": entry.content_hash[:12],
                "rows": entry.good_rows,
                "quarantined": entry.quarantined_rows,
                "reasons": reason_summary(quarantine),
                "warnings": list(entry.warnings),
            }
        )
    tables = {}
    for table, result in results.items():
        failed = [o for o in result.outcomes if not o.passed]
        tables[table] = {
            "status": "NOT WRITTEN" if result.blocked else "written",
            "rows": int(result.build.rows if result.build is not None else pq.read_metadata(result.path).num_rows),
            "origin": result.origin,
            "blocking": [f"{o.name}: {o.description}" for o in failed if o.blocking],
            "warnings": [f"{o.name}: {o.description}" for o in failed if not o.blocking],
            "held_back": reason_summary(result.build.quarantine) if result.build is not None else [],
            "replaced": result.build.replaced if result.build is not None else {},
        }
    return {
        "loaded": loaded,
        "rejected": [
            {"file": r.file_name, "table": r.table, "reason": r.reason, "moved_to": r.moved_to} for r in ingest.rejected
        ],
        "skipped": ingest.skipped,
        "ignored": ingest.ignored,
        "unreadable": ingest.unreadable,
        "replayed": ingest.replayed,
        "problems": list(problems),
        "tables": tables,
        "data": data,
    }


def reason_summary(quarantine: pd.DataFrame, examples: int = 3) -> list[dict[str, object]]:
    """Quarantined rows grouped by kind of reason, most frequent first. A row's kind is the words before
    the first ':' of its first reason: every reason reads 'kind: detail' (the code, date or value) or is
    a kind alone, so 400 unknown materials are one kind, not 400."""
    if not len(quarantine):
        return []
    kinds = quarantine["reason"].str.split(";").str[0].str.split(":").str[0].str.strip()
    summary = []
    for kind, rows in quarantine.groupby(kinds, sort=False):
        summary.append(
            {
                "reason": kind,
                "rows": len(rows),
                "examples": [
                    f"{file}:{line}: {reason}"
                    for file, line, reason in rows[["source_file", "line_number", "reason"]]
                    .head(examples)
                    .itertuples(index=False)
                ],
            }
        )
    return sorted(summary, key=lambda item: -int(item["rows"]))
