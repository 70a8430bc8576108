"""`nova erp import` and `nova erp withdraw`: the ERP import alone, for the administrator who has just
dropped an export into the landing folder (or needs to take one back).

    nova erp import                   # load the new files of $NOVA_LANDING_DIR/erp into $NOVA_LAKE_DIR
    nova erp withdraw FILE|HASH       # take a loaded file out of the tables (it stays in bronze), re-import
    nova erp withdraw --undo HASH     # put a withdrawn file back, re-import

Both run the same asset as the daily cycle (`erp_tables` and the quarantine, in process, no PostgreSQL
needed) and print per file what was loaded, quarantined (with reasons) and rejected, and per table
whether it was written. Exit status 0 when every table was written, 1 when a blocking check kept a
previous table (or the run failed), 2 when the command cannot be carried out as asked.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nova_assets.settings import Settings, load_settings

QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}  # the report below says it all


def add_erp_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `nova erp ...` on the `nova` parser's subparsers."""
    erp = subparsers.add_parser(
        "erp", help="import ERP exports from the landing folder, or withdraw one", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    commands = erp.add_subparsers(dest="erp_command", required=True)
    load = commands.add_parser("import", help="load new exports and rebuild the raw ERP tables; print what happened")
    load.set_defaults(func=cmd_import)
    withdraw = commands.add_parser("withdraw", help="take a loaded file out of the ERP tables (or put it back)")
    withdraw.add_argument("file", help="the file name as loaded, or the start of its sha256 (at least 8 characters)")
    withdraw.add_argument("--undo", action="store_true", help="put a withdrawn file back")
    withdraw.set_defaults(func=cmd_withdraw)


def cmd_import(args: argparse.Namespace) -> int:
    return _import(load_settings())


def cmd_withdraw(args: argparse.Namespace) -> int:
    from nova_assets.lib.sources.erp_store import ErpStore
    from nova_assets.lib.sources.landing import LandingError

    settings = load_settings()
    store = ErpStore.in_lake(settings.lake_dir)
    try:
        entry = store.withdraw(args.file, restore=args.undo)
    except LandingError as exc:
        print(f"nova erp withdraw: {exc}", file=sys.stderr)
        return 2
    done = "put back" if args.undo else f"withdrawn ({entry.withdrawn_at}, recorded in {store.root / 'manifest.json'})"
    print(f"{entry.file_name} (sha256 {entry.content_hash[:12]}, loaded {entry.loaded_at}, {entry.table}): {done}")
    print("Rebuilding the ERP tables ...")
    return _import(settings)


def _import(settings: Settings) -> int:
    import dagster as dg  # here, not at the top: every `nova` command imports this module

    from nova_assets.defs.ingest.erp import QUARANTINE_KEY, erp_tables
    from nova_assets.defs.resources import sources_resource
    from nova_assets.resources import LakeResource

    sources = sources_resource(settings)  # bound as the code location binds it
    lake = LakeResource(lake_dir=str(settings.lake_dir))
    print(f"ERP import: {sources.erp_dir} -> {lake.root} (as-of date {sources.as_of})", flush=True)
    result = dg.materialize(
        [erp_tables], resources={"sources": sources, "lake": lake}, raise_on_error=False, run_config=QUIET
    )
    report = next(
        (
            event.materialization.metadata["import_report"].value
            for event in result.get_asset_materialization_events()
            if event.asset_key == QUARANTINE_KEY
        ),
        None,
    )
    if report is None:
        failure = next((e for e in result.all_events if e.is_step_failure), None)
        message = failure.step_failure_data.error.message.strip() if failure and failure.step_failure_data.error else ""
        print(f"nova erp import: the import failed: {message or 'see the Dagster log above'}", file=sys.stderr)
        return 1
    print(format_report(report, lake.root))
    return 0 if all(t["status"] == "written" for t in report["tables"].values()) else 1


def format_report(report: dict, lake_dir: Path) -> str:
    """The import report (erp_import.import_report) as plain text."""
    lines = ["", "Files"]
    for problem in report["problems"]:
        lines.append(f"  PROBLEM     {problem}")
    for item in report["loaded"]:
        lines.append(
            f"  loaded      {item['file']} -> {item['table']}: {item['rows']:,} rows, {item['quarantined']:,} "
            f"quarantined (sha256 {item['content_hash']})"
        )
        lines += _reasons(item["reasons"], "              ")
        lines += [f"              warning: {w}" for w in item["warnings"]]
    for item in report["rejected"]:
        where = f"moved to {item['moved_to']}" if item["moved_to"] else "left in the landing folder"
        lines.append(f"  REJECTED    {item['file']} ({item['table']}): {item['reason']} ({where})")
    lines += [f"  skipped     {name}" for name in report["skipped"]]
    lines += [f"  ignored     {name} (the name matches no ERP table)" for name in report["ignored"]]
    lines += [f"  unreadable  {line}" for line in report["unreadable"]]
    lines += [f"  re-parsed   {name}" for name in report["replayed"]]
    if len(lines) == 2:
        lines.append("  no new file")
    lines += ["", "Tables"]
    for table, item in report["tables"].items():
        status = item["status"] if item["status"] == "written" else "NOT WRITTEN (the previous table is kept)"
        lines.append(f"  {table:<21} {status}: {item['rows']:,} rows ({item['origin']})")
        lines += [f"      blocking: {text}" for text in item["blocking"] if _evaluated(text)]
        lines += [f"      warning:  {text}" for text in item["warnings"] if _evaluated(text)]
        if item["held_back"]:
            lines.append("      held back (loaded again once the reason is gone):")
            lines += _reasons(item["held_back"], "        ")
        lines += [f"      {file} replaced {rows:,} earlier rows" for file, rows in item["replaced"].items()]
    lines += [
        "",
        f"Data: {report['data']}",
        f"Quarantined rows (file, line, reason, raw text): {lake_dir / 'quarantine' / 'erp_rows.parquet'}",
        "Take a loaded file back out of the tables: nova erp withdraw FILE|HASH",
    ]
    return "\n".join(lines)


def _evaluated(finding: str) -> bool:
    return "not evaluated: the schema check failed" not in finding


def _reasons(summary: list[dict], indent: str) -> list[str]:
    return [f"{indent}{item['rows']:,} x {item['reason']}, e.g. {item['examples'][0]}" for item in summary]
