"""Rebuild one raw ERP table from every accepted export file, in DuckDB (out of core, in file order).

How files combine (in load order: run by run, by file name within a run):

* masters (materials, sites, suppliers), stock snapshots and the purchase-order history: the later
  file wins per key (codes compared case-insensitively);
* open orders: the newest file is the current list of open purchase orders;
* movements: a re-export (a corrected file over the same days) replaces what it re-exports, never adds
  to it. A row with a `movement_id` (document number) replaces every earlier row with that id. A file's
  rows without one replace, for each (site, movement type) they hold, the earlier rows of that site and
  type dated within their first..last date, split where the file has no row at all for more than
  `replace_gap_days` days: a replacement never reaches across a stretch the file does not cover.

Rows are held back (not written, shown in the quarantine with their reason, loaded again by the build
that no longer finds the reason) when they break a rule that depends on more than their own file:

* a date outside 2000-01-01 .. the cycle's as-of date (or the column's own bound): `date_range`;
* a material the materials master does not know: `known_materials`;
* a value outside the column's plausible range (`ErpLimits.plausible_limits`), a movement quantity more
  than `plausible_factor` times the 99th percentile of its material and type (with at least
  MIN_HISTORY_ROWS of history), or a document-less movement dated more than `replace_gap_days` from
  every other date of its file (a typo such as 2015 for 2025: it is neither loaded nor allowed to widen
  the file's replacement window): `plausible`.

A held-back share above `max_held_back_share` fails that check as blocking (the previous table stays).
A file whose document-less rows would replace more than `max_replaced_ratio` times as many stored rows
as they bring (and more than LARGE_REMOVAL_MIN_ROWS) fails `replacement`, blocking. Replaced rows are
never deleted: they stay in their file's parsed Parquet, and withdrawing the replacing file brings
them back.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from nova_assets.lib.sources.erp_files import ERP_TABLES, good_path, locate_rows
from nova_assets.lib.sources.erp_limits import ErpLimits
from nova_assets.lib.sources.quality import EARLIEST, RULES

MIN_HISTORY_ROWS = 30  # rows of a material and type before its own history bounds a quantity
LARGE_REMOVAL_MIN_ROWS = 100  # a replacement this small is never "large"
EXAMPLES = 5
MASTER_OF = {"material_id": "erp_materials", "site_id": "erp_sites", "equipment_id": "erp_installed_base"}
_SQL_TYPE = {"str": "VARCHAR", "float": "DOUBLE", "date": "DATE"}


@dataclass(frozen=True)
class SourceFile:
    """One accepted export as the build sees it: its parsed rows and its bytes in bronze."""

    name: str
    content_hash: str
    prefix: Path  # parsed/<hash>: <prefix>.good.parquet, .layout.json
    kept: Path


@dataclass(frozen=True)
class BuildContext:
    """What the rules need beyond the table's own files; a rule whose input is missing is not applied."""

    as_of: date | None = None
    masters: Mapping[str, Path] = field(default_factory=dict)  # erp_materials/erp_sites -> their built Parquet
    limits: ErpLimits = field(default_factory=ErpLimits)


@dataclass
class TableBuild:
    """One rebuilt table (written to `path`) and what the checks need to know about it."""

    table: str
    path: Path
    rows: int
    held_back: dict[str, int] = field(default_factory=dict)  # check name -> rows it held back
    held_back_examples: dict[str, list[str]] = field(default_factory=dict)
    quarantine: pd.DataFrame = field(default_factory=pd.DataFrame)  # held-back rows: file, line, reason, raw
    removals: list[str] = field(default_factory=list)  # large replacements, one message per file
    replaced: dict[str, int] = field(default_factory=dict)  # file -> earlier rows its rows replaced
    facts: dict[str, object] = field(default_factory=dict)  # SQL facts of the written table (see table_facts)


def build_table(
    con: duckdb.DuckDBPyConnection, table: str, sources: list[SourceFile], context: BuildContext, target: Path
) -> TableBuild:
    """Write `table` rebuilt from `sources` (load order) to `target`; see the module doc."""
    return _Build(con, table, sources, context, target).run()


class _Build:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        sources: list[SourceFile],
        context: BuildContext,
        target: Path,
    ) -> None:
        self.con, self.table, self.sources, self.context, self.target = con, table, sources, context, target
        self.spec = ERP_TABLES[table]
        self.columns = [*self.spec.columns, *(["source_file"] if table == "erp_movements" else [])]
        self.tag = uuid.uuid4().hex[:12]
        self.rows, self.held, self.dropped = f"erp_rows_{self.tag}", f"erp_held_{self.tag}", f"erp_drop_{self.tag}"

    def run(self) -> TableBuild:
        build = TableBuild(self.table, self.target, 0)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        if not self.sources:
            self._write_empty()
            build.facts = table_facts(self.con, self.table, self.target, self.context)
            return build
        renames = self._canonical_codes()
        self.con.execute(f"CREATE TEMP VIEW {self.rows} AS {self._union(renames)}")
        try:
            self.con.execute(f"CREATE TEMP TABLE {self.held} AS {self._held_back_sql()}")
            self.con.execute(f"CREATE TEMP TABLE {self.dropped} AS {self._superseded_sql()}")
            if self.table == "erp_movements" and len(self.sources) > 1:
                build.replaced, build.removals = self._replacements()
            build.rows = self._write(renames)
            build.held_back, build.held_back_examples = self._held_back_counts()
            build.quarantine = self._held_back_rows()
        finally:
            self.con.execute(f"DROP VIEW IF EXISTS {self.rows}")
            self.con.execute(f"DROP TABLE IF EXISTS {self.held}; DROP TABLE IF EXISTS {self.dropped}")
        build.facts = table_facts(self.con, self.table, self.target, self.context, verify_key=self._key_may_repeat())
        return build

    def _key_may_repeat(self) -> bool:
        """Whether the written table's key needs checking: one file's keys were made unique when it was
        read, except the business key of movements without a document number."""
        if len(self.sources) > 1:
            return True
        if self.table != "erp_movements":
            return False
        relation = f"read_parquet({_literal(str(self.target))})"
        return bool(self.con.execute(f"SELECT count(*) FROM {relation} WHERE movement_id IS NULL").fetchone()[0])

    # -- the rows of every file --------------------------------------------------------------------

    def _union(self, renames: Mapping[str, Mapping[str, str]]) -> str:
        selects = []
        for i, source in enumerate(self.sources):
            present = set(pq.read_schema(good_path(source.prefix)).names)
            columns = []
            for name in self.columns:
                column = self.spec.columns.get(name)
                sql_type = _SQL_TYPE[column.kind] if column else "VARCHAR"
                value = name if name in present else f"CAST(NULL AS {sql_type})"
                if renames.get(name):
                    branches = " ".join(f"WHEN {_literal(a)} THEN {_literal(b)}" for a, b in renames[name].items())
                    value = f"CASE {value} {branches} ELSE {value} END"
                columns.append(f"{value} AS {name}")
            selects.append(
                f"SELECT {i} AS _file, file_row_number AS _row, {', '.join(columns)} "
                f"FROM read_parquet({_literal(str(good_path(source.prefix)))}, file_row_number = true)"
            )
        return " UNION ALL ".join(selects)

    def _canonical_codes(self) -> dict[str, dict[str, str]]:
        """Codes written in another case (or spacing) than their master's: code -> the master's spelling."""
        renames: dict[str, dict[str, str]] = {}
        for column, master in MASTER_OF.items():
            if column not in self.spec.columns or master not in self.context.masters or master == self.table:
                continue
            known = self._codes(f"read_parquet({_literal(str(self.context.masters[master]))})", column)
            spelling = {code.upper(): code for code in known}
            found = set()
            for source in self.sources:
                if column in pq.read_schema(good_path(source.prefix)).names:
                    found |= self._codes(f"read_parquet({_literal(str(good_path(source.prefix)))})", column)
            renames[column] = {code: spelling[code.upper()] for code in found - known if code.upper() in spelling}
        return renames

    def _codes(self, relation: str, column: str) -> set[str]:
        return {
            row[0]
            for row in self.con.execute(
                f"SELECT DISTINCT {column} FROM {relation} WHERE {column} IS NOT NULL"
            ).fetchall()
        }

    # -- rows held back ------------------------------------------------------------------------------

    def _held_back_sql(self) -> str:
        """(_file, _row, check, reason, value) of every row a rule holds back; each rule filters its own
        rows, so nothing the size of the table is carried along."""
        rules: list[tuple[str, str, str, str]] = []  # (check, condition, reason, offending value)
        as_of = self.context.as_of
        for column, bound in RULES[self.table].dates.items() if as_of else ():
            latest = bound.latest(as_of)
            rules.append(
                (
                    "date_range",
                    f"{column} < DATE '{EARLIEST}' OR {column} > DATE '{latest}'",
                    f"'{column} outside {EARLIEST}..{latest}: ' || strftime({column}, '%Y-%m-%d') || "
                    f"' (the cycle''s as-of date is {as_of})'",
                    f"strftime({column}, '%Y-%m-%d')",
                )
            )
        for column, check in RULES[self.table].codes.items():
            master = MASTER_OF.get(column)
            if check != "known_materials" or master not in self.context.masters:
                continue
            relation = f"read_parquet({_literal(str(self.context.masters[master]))})"
            rules.append(
                (
                    check,
                    f"{column} IS NOT NULL AND {column} NOT IN (SELECT {column} FROM {relation} "
                    f"WHERE {column} IS NOT NULL)",
                    f"'unknown {column}: ' || {column} || ' (not in {master}; it loads once {master} has it)'",
                    column,
                )
            )
        for column, spec in self.spec.columns.items():
            bounds = self.context.limits.limits(self.table, column, spec)
            if spec.kind != "float" or not bounds:
                continue
            low, high = bounds
            outside = " OR ".join(
                [
                    *([f"{column} < {low!r}"] if low is not None else []),
                    *([f"{column} > {high!r}"] if high is not None else []),
                ]
            )
            shown = (
                f"between {_number_text(low)} and {_number_text(high)}"
                if low is not None and high is not None
                else f"at least {_number_text(low)}"
                if low is not None
                else f"at most {_number_text(high)}"
            )
            rules.append(
                (
                    "plausible",
                    outside,
                    f"'implausible {column}: ' || {column} || ' (should be {shown}; NOVA_ERP_PLAUSIBLE_LIMITS)'",
                    f"CAST({column} AS VARCHAR)",
                )
            )
        parts = [
            f"SELECT _file, _row, '{check}' AS check_name, {reason} AS reason, {value} AS value "
            f"FROM {self.rows} WHERE {condition}"
            for check, condition, reason, value in rules
        ]
        parts += self._history_sql() + self._isolated_dates_sql()
        if not parts:
            return "SELECT 0 AS _file, 0 AS _row, '' AS check_name, '' AS reason, '' AS value WHERE FALSE"
        return " UNION ALL ".join(parts)

    def _history_sql(self) -> list[str]:
        """A quantity far above what its material and type usually see."""
        factor = self.context.limits.plausible_factor
        parts = []
        for column, spec in self.spec.columns.items():
            if not spec.history_by or not factor:
                continue
            by = ", ".join(spec.history_by)
            # the 99th percentile by rank (nearest rank), from the count of each distinct value: an exact
            # quantile aggregate would hold every value of every group in memory at once
            counts = (
                f"SELECT {by}, {column} AS v, count(*) AS c FROM {self.rows} WHERE {column} IS NOT NULL GROUP BY ALL"
            )
            running = (
                f"SELECT {by}, v, sum(c) OVER (PARTITION BY {by} ORDER BY v ROWS UNBOUNDED PRECEDING) AS upto, "
                f"sum(c) OVER (PARTITION BY {by}) AS n FROM ({counts})"
            )
            usual = (
                f"SELECT {by}, min(v) AS p99, any_value(n) AS n FROM ({running}) WHERE upto >= ceil(0.99 * n) "
                f"GROUP BY ALL HAVING any_value(n) >= {MIN_HISTORY_ROWS}"
            )
            joined = " AND ".join(f"r.{c} = u.{c}" for c in spec.history_by)
            group = " || ' ' || ".join(f"r.{c}" for c in spec.history_by)
            parts.append(
                f"SELECT r._file, r._row, 'plausible' AS check_name, "
                f"'implausible {column}: ' || r.{column} || ' is more than {factor:g} times the 99th percentile of ' "
                f"|| {group} || ' (' || u.p99 || ' over ' || u.n || ' rows; NOVA_ERP_PLAUSIBLE_FACTOR)' AS reason, "
                f"CAST(r.{column} AS VARCHAR) AS value "
                f"FROM {self.rows} r JOIN ({usual}) u ON {joined} WHERE r.{column} > {factor!r} * u.p99"
            )
        return parts

    def _isolated_dates_sql(self) -> list[str]:
        """Document-less movements dated far from every other date of their file (and not its newest)."""
        if self.table != "erp_movements":
            return []
        gap = self.context.limits.replace_gap_days
        as_of = self.context.as_of
        bound = RULES[self.table].dates["movement_date"]
        # dates out of range are held back by date_range: they do not make the file's other dates look isolated
        in_range = f" AND movement_date BETWEEN DATE '{EARLIEST}' AND DATE '{bound.latest(as_of)}'" if as_of else ""
        dates = (
            f"SELECT _file, movement_date AS d, lag(movement_date) OVER w AS before, "
            f"lead(movement_date) OVER w AS after, max(movement_date) OVER (PARTITION BY _file) AS newest, "
            f"min(movement_date) OVER (PARTITION BY _file) AS oldest FROM "
            f"(SELECT DISTINCT _file, movement_date FROM {self.rows} WHERE movement_id IS NULL{in_range}) "
            f"WINDOW w AS (PARTITION BY _file ORDER BY movement_date)"
        )
        isolated = (
            f"SELECT * FROM ({dates}) WHERE d <> newest AND coalesce(d - before, {gap + 1}) > {gap} "
            f"AND coalesce(after - d, {gap + 1}) > {gap}"
        )
        return [
            "SELECT r._file, r._row, 'plausible' AS check_name, "
            f"'isolated movement_date: ' || strftime(i.d, '%Y-%m-%d') || ' is more than {gap} days from every "
            "other date of its file: not loaded, and not allowed to widen "
            f"the dates it replaces (NOVA_ERP_REPLACE_GAP_DAYS)' AS reason, strftime(i.d, '%Y-%m-%d') AS value "
            f"FROM {self.rows} r JOIN ({isolated}) i ON r._file = i._file AND r.movement_date = i.d "
            f"WHERE r.movement_id IS NULL"
        ]

    # -- how files combine -------------------------------------------------------------------------------

    def _live(self) -> str:
        """The rows no rule holds back."""
        return f"SELECT * FROM {self.rows} WHERE (_file, _row) NOT IN (SELECT _file, _row FROM {self.held})"

    def _superseded_sql(self) -> str:
        """(_file, _row) of the rows a later file replaces."""
        last = len(self.sources) - 1
        if last == 0:
            return "SELECT 0 AS _file, 0 AS _row, 0 AS by_file WHERE FALSE"
        if self.table == "erp_open_orders":
            return f"SELECT _file, _row, {last} AS by_file FROM {self.rows} WHERE _file < {last}"
        if self.table != "erp_movements":
            key = ", ".join(f"upper({k})" if self.spec.columns[k].code else k for k in self.spec.key)
            return (
                f"SELECT _file, _row, newest AS by_file FROM (SELECT _file, _row, max(_file) OVER (PARTITION BY {key}) "
                f"AS newest FROM ({self._live()})) WHERE newest > _file"
            )
        return (
            f"SELECT _file, _row, newest AS by_file FROM (SELECT _file, _row, max(_file) OVER "
            f"(PARTITION BY movement_id) AS newest FROM ({self._live()}) WHERE movement_id IS NOT NULL) "
            f"WHERE newest > _file UNION ALL {self._covered_sql()}"
        )

    def _windows_sql(self) -> str:
        """Per file, site and type: the date windows its document-less rows replace (split at the file's gaps)."""
        gap = self.context.limits.replace_gap_days
        steps = (
            f"SELECT _file, movement_date AS d, CASE WHEN movement_date - lag(movement_date) OVER "
            f"(PARTITION BY _file ORDER BY movement_date) > {gap} THEN 1 ELSE 0 END AS starts FROM "
            f"(SELECT DISTINCT _file, movement_date FROM ({self._live()}) WHERE movement_id IS NULL)"
        )
        segments = f"SELECT _file, d, sum(starts) OVER (PARTITION BY _file ORDER BY d) AS segment FROM ({steps})"
        return (
            f"SELECT l._file, s.segment, l.site_id, l.movement_type, min(l.movement_date) AS lo, "
            f"max(l.movement_date) AS hi, count(*) AS rows FROM ({self._live()}) l JOIN ({segments}) s "
            f"ON l._file = s._file AND l.movement_date = s.d WHERE l.movement_id IS NULL "
            f"GROUP BY l._file, s.segment, l.site_id, l.movement_type"
        )

    def _covered_sql(self) -> str:
        """Rows of earlier files inside a later file's window; `by_file` is the first later file covering them."""
        return (
            f"SELECT r._file, r._row, min(w._file) AS by_file FROM ({self._live()}) r JOIN ({self._windows_sql()}) w "
            f"ON w._file > r._file AND w.site_id = r.site_id AND w.movement_type = r.movement_type "
            f"AND r.movement_date BETWEEN w.lo AND w.hi GROUP BY r._file, r._row"
        )

    def _replacements(self) -> tuple[dict[str, int], list[str]]:
        """Rows each file's windows replaced, and the files that replace far more than they bring."""
        limits = self.context.limits
        replaced = dict(
            self.con.execute(f"SELECT by_file, count(*) FROM ({self._covered_sql()}) GROUP BY by_file").fetchall()
        )
        brought = dict(
            self.con.execute(
                f"SELECT _file, count(*) FROM ({self._live()}) WHERE movement_id IS NULL GROUP BY _file"
            ).fetchall()
        )
        removals = []
        for index, count in sorted(replaced.items()):
            own = brought.get(index, 0)
            if count > max(LARGE_REMOVAL_MIN_ROWS, limits.max_replaced_ratio * own):
                name = self.sources[index].name
                removals.append(
                    f"{name} ({self.sources[index].content_hash[:12]}): its {own} rows without a document number "
                    f"would replace {count} stored movements, more than {limits.max_replaced_ratio:g} times as many "
                    f"(NOVA_ERP_MAX_REPLACED_RATIO); a re-export must hold every movement of its sites, types and "
                    f"days. The previous table is kept: if the file is wrong, run `nova erp withdraw {name}`"
                )
        return {self.sources[i].name: n for i, n in replaced.items()}, removals

    # -- writing ---------------------------------------------------------------------------------------

    def _write(self, renames: Mapping[str, Mapping[str, str]]) -> int:
        """Write the kept rows: in load order (file, then line), a later file's key-ordered when files merge."""
        held = self.con.execute(f"SELECT count(*) FROM {self.held}").fetchone()[0]
        dropped = self.con.execute(f"SELECT count(*) FROM {self.dropped}").fetchone()[0]
        single = len(self.sources) == 1
        as_parsed = single and pq.read_schema(good_path(self.sources[0].prefix)).names == self.columns
        if as_parsed and not held and not any(renames.values()):
            shutil.copyfile(good_path(self.sources[0].prefix), self.target)  # the file is the table
            return pq.read_metadata(self.target).num_rows
        merged = [k for k in self.spec.key if self.table != "erp_movements" and not single]
        keep = (
            f" WHERE (_file, _row) NOT IN (SELECT _file, _row FROM {self.held} UNION ALL "
            f"SELECT _file, _row FROM {self.dropped})"
            if held or dropped
            else ""
        )
        order = f" ORDER BY {', '.join(merged)}" if merged else " ORDER BY _file, _row" if keep else ""
        written = self.con.execute(
            f"COPY (SELECT {', '.join(self.columns)} FROM {self.rows}{keep}{order}) "
            f"TO {_literal(str(self.target))} (FORMAT parquet)"
        ).fetchone()
        return int(written[0])

    def _write_empty(self) -> None:
        columns = ", ".join(
            f"CAST(NULL AS {_SQL_TYPE[self.spec.columns[c].kind] if c in self.spec.columns else 'VARCHAR'}) AS {c}"
            for c in self.columns
        )
        self.con.execute(f"COPY (SELECT {columns} WHERE FALSE) TO {_literal(str(self.target))} (FORMAT parquet)")

    def _held_back_counts(self) -> tuple[dict[str, int], dict[str, list[str]]]:
        """Rows held back per check, and examples: the unknown codes (most rows first), the dates (sorted),
        or the reasons (file order)."""
        counts = dict(self.con.execute(f"SELECT check_name, count(*) FROM {self.held} GROUP BY check_name").fetchall())
        examples = {}
        for check in counts:
            if check in ("known_materials", "date_range"):
                order = "count(*) DESC, value" if check == "known_materials" else "value"
                sql = f"SELECT value FROM {self.held} WHERE check_name = '{check}' GROUP BY value ORDER BY {order}"
            else:
                sql = f"SELECT reason FROM {self.held} WHERE check_name = '{check}' ORDER BY _file, _row"
            examples[check] = [row[0] for row in self.con.execute(f"{sql} LIMIT {EXAMPLES}").fetchall()]
        return {k: int(v) for k, v in counts.items()}, examples

    def _held_back_rows(self) -> pd.DataFrame:
        """The held-back rows as quarantine entries: file, line, every reason, raw text."""
        held = self.con.execute(
            f"SELECT _file, _row, string_agg(reason, '; ' ORDER BY check_name) AS reason FROM {self.held} "
            f"GROUP BY _file, _row ORDER BY _file, _row"
        ).df()
        frames = []
        for index, rows in held.groupby("_file", sort=True):
            source = self.sources[int(index)]
            lines, raw = locate_rows(self.con, source.kept, source.prefix, rows["_row"].to_numpy(dtype=np.int64))
            frames.append(
                pd.DataFrame(
                    {
                        "source_file": source.name,
                        "line_number": lines,
                        "reason": rows["reason"].tolist(),
                        "raw_row": raw,
                    }
                )
            )
        return pd.concat(frames, ignore_index=True) if frames else _empty_quarantine()


def table_facts(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, context: BuildContext, *, verify_key: bool = True
) -> dict[str, object]:
    """What the checks read of a written table, computed by DuckDB over its Parquet file (the key only
    when `verify_key`: a rebuild that cannot repeat it skips the largest aggregate)."""
    rules = RULES[table]
    relation = f"read_parquet({_literal(str(path))})"
    schema = {name: str(kind) for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    aggregates = ["count(*) AS rows"]
    aggregates += [f"count(*) FILTER (WHERE {c} IS NULL) AS null_{c}" for c in rules.required if c in schema]
    aggregates += [f"count(*) FILTER (WHERE {c} < 0) AS negative_{c}" for c in rules.non_negative if c in schema]
    aggregates += [
        f"count(*) FILTER (WHERE {c} < DATE '{EARLIEST}' OR {c} > DATE '{bound.latest(context.as_of)}') AS out_{c}"
        for c, bound in rules.dates.items()
        if c in schema and context.as_of
    ]
    if rules.freshness and rules.freshness.column in schema:
        aggregates.append(f"max({rules.freshness.column}) AS latest")
    counts = con.execute(f"SELECT {', '.join(aggregates)} FROM {relation}").df().iloc[0].to_dict()
    facts: dict[str, object] = {"schema": schema, **{k: v for k, v in counts.items()}}
    if verify_key and rules.key and all(k in schema for k in rules.key):
        key = [
            f"upper({k})" if k in ERP_TABLES[table].columns and ERP_TABLES[table].columns[k].code else k
            for k in rules.key
        ]
        text = f"concat_ws('|', {', '.join(f'CAST({k} AS VARCHAR)' for k in key)})"
        if rules.row_id and rules.row_id in schema:  # a row with an id is compared on the id alone
            text = f"CASE WHEN {rules.row_id} IS NOT NULL THEN {rules.row_id} ELSE {text} END"
        keyed = f"SELECT {text} AS k FROM {relation}"
        duplicated = con.execute(
            f"WITH keyed AS ({keyed}), hashed AS (SELECT k, hash(k) AS h FROM keyed), "
            f"candidates AS (SELECT h FROM hashed GROUP BY h HAVING count(*) > 1) "
            f"SELECT k, count(*) - 1 AS extra FROM hashed WHERE h IN (SELECT h FROM candidates) GROUP BY k "
            f"HAVING count(*) > 1 ORDER BY extra DESC, k"
        ).fetchall()
        total = sum(int(extra) for _, extra in duplicated)
        facts["duplicates"] = int(total)
        facts["duplicate_examples"] = [k for k, _ in duplicated[:EXAMPLES]]
    for column, check in rules.codes.items():
        master = MASTER_OF.get(column)
        if column not in schema or master not in context.masters:
            continue
        reference = f"read_parquet({_literal(str(context.masters[master]))})"
        unknown = con.execute(
            f"SELECT {column}, count(*) AS n FROM {relation} WHERE {column} IS NOT NULL AND {column} NOT IN "
            f"(SELECT {column} FROM {reference} WHERE {column} IS NOT NULL) GROUP BY {column} ORDER BY n DESC, {column}"
        ).fetchall()
        facts[f"unknown_{check}"] = sum(n for _, n in unknown)
        facts[f"unknown_{check}_codes"] = len(unknown)
        facts[f"unknown_{check}_examples"] = [code for code, _ in unknown[:EXAMPLES]]
    return facts


def _number_text(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_file": pd.Series(dtype=object),
            "line_number": pd.Series(dtype=np.int64),
            "reason": pd.Series(dtype=object),
            "raw_row": pd.Series(dtype=object),
        }
    )
