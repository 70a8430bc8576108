"""Import ERP export files (real or generated) into the canonical raw tables of the data contract.

Real exports are messy: `;` or `,` separators, Brazilian decimals, Latin-1 accents, Portuguese
headers, quoted line breaks, stray bad lines. A bad row must not stop the good ones from loading, and
must not vanish silently either: it goes to a quarantine with its file, line number and reason. Only a
file that cannot be read at all (empty, binary, no usable header) is rejected as a whole.

A file is read by DuckDB's CSV reader (RFC 4180, in parallel, out of core) after `text_files` has
settled its encoding and line ends; the reader's rejects (wrong field count, a quote left open, an
over-long record) are quarantined with their lines. Cells are typed by SQL in the same scan, and the
good rows go straight to Parquet, so a file of tens of millions of lines never sits in Python memory.
Per cell: codes are trimmed and upper-cased, dates are `YYYY-MM-DD` or `dd/mm/yyyy`, numbers take the
decimal mark the column shows (see `_number`).
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
import unicodedata
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from nova_assets.lib.sources.erp_columns import TableSpec
from nova_assets.lib.sources.erp_tables import CLASSIFY_ORDER, ERP_TABLES
from nova_assets.lib.sources.text_files import (
    LineMap,
    NotReadable,
    PreparedText,
    lines_of_offsets,
    prepare_text,
    read_spans,
)

MAX_LINE_CHARS = 10_000
RAW_ROW_CHARS = 500  # raw text kept in the quarantine for an over-long line
QUARANTINE_COLUMNS = ["source_file", "line_number", "reason", "raw_row"]
SEPARATORS = (",", ";", "\t", "|")
TEXT_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
STOP_WORDS = {"de", "do", "da", "dos", "das"}
WHITESPACE = " \t\n\r\x0b\x0c\xa0\u2007\u202f\ufeff"  # trimmed around every cell
DUCKDB_MEMORY_LIMIT = "1GB"  # DuckDB spills to disk beyond this: the import's memory does not grow with the files
MAX_RECORD_BYTES = 2_000_000  # DuckDB's own limit on one record; longer ones are rejected by the reader
# Parsed rows are written without dictionary pages: building a dictionary for a column of unique document
# numbers, only to drop it, costs more than the whole write of the other columns
PARQUET_OPTIONS = "DICTIONARY_SIZE_LIMIT 1"


@dataclass(frozen=True)
class ParsedExport:
    """What reading one export gave: the counts, and the files written under its prefix
    (`.good.parquet` in the contract's types, `.quarantine.parquet`, `.layout.json`)."""

    file_error: str | None = None
    good_rows: int = 0
    quarantined_rows: int = 0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportResult:
    """One file's rows in memory: typed good rows, quarantined rows, or why the whole file was rejected.

    For small files and tests; the ERP store works on the Parquet files `parse_export` writes.
    """

    good: pd.DataFrame
    quarantine: pd.DataFrame
    file_error: str | None = None
    warnings: tuple[str, ...] = ()

    def messages(self) -> list[str]:
        """Human-readable problems ("file:line: reason"), for logs and asset metadata."""
        if self.file_error:
            return [self.file_error]
        q = self.quarantine
        rows = zip(q["source_file"], q["line_number"], q["reason"], strict=True)
        return [f"{file}:{line}: {reason}" for file, line, reason in rows]


@contextmanager
def erp_duckdb(scratch: Path, threads: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB for the import, capped at DUCKDB_MEMORY_LIMIT and spilling into `scratch`."""
    scratch.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        config={
            "memory_limit": DUCKDB_MEMORY_LIMIT,
            "temp_directory": str(scratch / "duckdb_spill"),
            "preserve_insertion_order": True,
            **({"threads": threads} if threads else {}),
        }
    )
    try:
        yield con
    finally:
        con.close()


def classify_erp_file(path: Path) -> str | None:
    """The raw table a landing file feeds, from words in its name; None if it is not an ERP export."""
    if path.suffix.lower() not in TEXT_SUFFIXES + PARQUET_SUFFIXES:
        return None
    words = _normalise(path.stem)
    for table in CLASSIFY_ORDER:
        for word in ERP_TABLES[table].file_words:
            if re.search(rf"(^|_){word}(_|$)", words):
                return table
    return None


def read_erp_file(path: Path, table: str) -> ImportResult:
    """Read one export into `table` (a key of ERP_TABLES) in memory; never raises for bad content."""
    with tempfile.TemporaryDirectory(prefix="nova-erp-") as tmp, erp_duckdb(Path(tmp)) as con:
        prefix = Path(tmp) / "parsed"
        parsed = parse_export(con, path, table, path.name, prefix, Path(tmp))
        if parsed.file_error:
            return ImportResult(empty_table(table), empty_quarantine(), parsed.file_error, parsed.warnings)
        return ImportResult(
            pd.read_parquet(good_path(prefix)), pd.read_parquet(quarantine_path(prefix)), None, parsed.warnings
        )


def good_path(prefix: Path) -> Path:
    return prefix.with_name(prefix.name + ".good.parquet")


def quarantine_path(prefix: Path) -> Path:
    return prefix.with_name(prefix.name + ".quarantine.parquet")


def layout_path(prefix: Path) -> Path:
    return prefix.with_name(prefix.name + ".layout.json")


def parse_export(
    con: duckdb.DuckDBPyConnection, path: Path, table: str, name: str, prefix: Path, scratch: Path
) -> ParsedExport:
    """Read one export into `table`, writing its good rows and quarantine under `prefix`; never raises
    for bad content (a file that cannot be read at all comes back with `file_error`)."""
    if table not in ERP_TABLES:
        raise ValueError(f"unknown ERP table {table!r}; expected one of {sorted(ERP_TABLES)}")
    spec = ERP_TABLES[table]
    prefix.parent.mkdir(parents=True, exist_ok=True)
    try:
        source = _open_source(con, path, name, scratch)
        mapping, error = _map_header(source.header, spec, name)
        if error:
            return ParsedExport(error, warnings=source.warnings)
        return _Parse(con, source, spec, table, name, mapping, prefix).run()
    except NotReadable as exc:
        return ParsedExport(f"{name}: {exc}")
    except (OSError, duckdb.Error) as exc:
        return ParsedExport(f"{name}: cannot read the file ({type(exc).__name__}: {exc})")


def _normalise(name: str) -> str:
    """'Código do Material' -> 'codigo_material': lower case, no accents, no filler words."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    return "_".join(w for w in re.split(r"[^a-z0-9]+", plain) if w and w not in STOP_WORDS)


def locate_rows(
    con: duckdb.DuckDBPyConnection, kept: Path, prefix: Path, rows: np.ndarray
) -> tuple[list[int], list[str]]:
    """Line and raw text, in the export as dropped (`kept`), of rows of its parsed good file."""
    path = layout_path(prefix)
    if not path.exists():  # parsed by a parser that kept no layout
        return [0] * len(rows), [""] * len(rows)
    layout = json.loads(path.read_text(encoding="utf-8"))
    records = _records_of_rows(rows, layout["dropped"])
    if layout["line_map"] is None:
        lines, raw, _ = _parquet_source(con, kept).locate(con, records)
        return [int(n) for n in lines], raw
    line_map = LineMap.from_json(layout["line_map"])
    lines = line_map.lines(records)
    spans = [(int(line), 1 + line_map.extra_lines(int(r))) for line, r in zip(lines, records, strict=True)]
    texts = read_spans(kept, spans, MAX_LINE_CHARS, layout["encoding"])
    return [int(n) for n in lines], [_raw_text(text, length) for text, length in texts]


# -- sources: the cells of a text or Parquet file, one VARCHAR per field --------------------------------


@dataclass
class _Source:
    """A file's header and cells, and how to find a record's line and raw text."""

    header: list[str]
    separator: str | None  # None for Parquet
    warnings: tuple[str, ...]
    prepared: PreparedText | None = None  # text files
    parquet_sql: str | None = None  # Parquet files: SELECT _record, c0.. FROM read_parquet(...)
    line_map: LineMap | None = None
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (line, reason, raw) of rejected records

    def cells_sql(self, rejects_table: str | None = None) -> str:
        """SELECT _record, c0 .. c{n-1} (VARCHAR) in file order; text rejects go to `rejects_table`."""
        if self.parquet_sql is not None:
            return self.parquet_sql
        assert self.prepared is not None and self.separator is not None
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(self.header))) + "}"
        rejects = (
            f"store_rejects = true, rejects_table = '{rejects_table}', rejects_scan = '{rejects_table}_scan', "
            f"rejects_line_size_limit = {MAX_RECORD_BYTES}"
            if rejects_table
            else "ignore_errors = true"
        )
        reader = (
            f"read_csv({_literal(str(self.prepared.path))}, header = false, skip = {self.prepared.header_line}, "
            f"delim = {_literal(self.separator)}, quote = '\"', escape = '\"', new_line = '\\n', "
            f"columns = {columns}, auto_detect = false, strict_mode = true, null_padding = false, "
            f"max_line_size = {MAX_RECORD_BYTES}, {rejects})"
        )
        return f"SELECT row_number() OVER () - 1 AS _record, * FROM {reader}"

    def locate(self, con: duckdb.DuckDBPyConnection, records: np.ndarray) -> tuple[np.ndarray, list[str], list[int]]:
        """Line, raw text (cut when over-long) and length in characters of each counted record."""
        if self.prepared is None:  # Parquet: the row as JSON, as if the column names were line 1
            cells = con.execute(
                f"SELECT * FROM ({self.cells_sql()}) WHERE _record IN (SELECT unnest($1::BIGINT[]))",
                [[int(r) for r in records]],
            ).df()
            names = [str(h) for h in self.header]
            by_record = {
                int(row[0]): json.dumps(dict(zip(names, ("" if v is None else v for v in row[1:]), strict=True)),
                                        ensure_ascii=False)
                for row in cells.astype(object).where(cells.notna(), None).itertuples(index=False)
            }  # fmt: skip
            raw = [by_record.get(int(r), "") for r in records]
            return np.asarray(records, dtype=np.int64) + 2, raw, [len(text) for text in raw]
        assert self.line_map is not None
        lines = self.line_map.lines(records)
        spans = [(int(line), self.span(int(record))) for line, record in zip(lines, records, strict=True)]
        texts = read_spans(self.prepared.path, spans, MAX_LINE_CHARS)
        return lines, [_raw_text(text, length) for text, length in texts], [length for _, length in texts]

    def span(self, record: int) -> int:
        """Lines the counted record spans (more than one with quoted line breaks)."""
        assert self.line_map is not None
        return 1 + self.line_map.extra_lines(record)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _raw_text(text: str, length: int) -> str:
    return text if length <= MAX_LINE_CHARS else text[:RAW_ROW_CHARS] + "..."


def _open_source(con: duckdb.DuckDBPyConnection, path: Path, name: str, scratch: Path) -> _Source:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return _parquet_source(con, path)
    prepared = prepare_text(path, name, scratch)
    separator = max(SEPARATORS, key=lambda s: len(_split(prepared.header, s)))
    header = [h.strip() for h in _split(prepared.header, separator)]
    return _Source(header, separator, prepared.warnings, prepared=prepared)


def _split(line: str, separator: str) -> list[str]:
    return next(csv.reader([line], delimiter=separator))


def _parquet_source(con: duckdb.DuckDBPyConnection, path: Path) -> _Source:
    """A Parquet export: each value as the text a CSV would hold (dates ISO, whole numbers without '.0')."""
    reader = f"read_parquet({_literal(str(path))}, file_row_number = true)"
    try:
        described = con.execute(f"DESCRIBE SELECT * EXCLUDE (file_row_number) FROM {reader}").fetchall()
    except duckdb.Error as exc:
        raise NotReadable(f"cannot read Parquet file ({type(exc).__name__}: {exc})") from exc
    header = [row[0] for row in described]
    cells = ", ".join(
        f"{_as_text(_identifier(column), kind)} AS c{i}" for i, (column, kind, *_) in enumerate(described)
    )
    return _Source(header, None, (), parquet_sql=f"SELECT file_row_number AS _record, {cells} FROM {reader}")


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _as_text(column: str, kind: str) -> str:
    kind = kind.upper()
    if kind == "DATE" or kind.startswith("TIMESTAMP"):
        return f"strftime({column}::DATE, '%Y-%m-%d')"
    if kind in {"DOUBLE", "FLOAT", "REAL"} or kind.startswith("DECIMAL"):
        return (
            f"CASE WHEN isfinite({column}::DOUBLE) AND {column} = trunc({column}) AND abs({column}) < 1e15 "
            f"THEN CAST(CAST({column} AS BIGINT) AS VARCHAR) ELSE CAST({column} AS VARCHAR) END"
        )
    return f"CAST({column} AS VARCHAR)"


def _map_header(header: list[str], spec: TableSpec, name: str) -> tuple[dict[str, int], str | None]:
    """Canonical column -> position in the file, or the reason the header is unusable."""
    lookup = {alias: col for col, c in spec.columns.items() for alias in (col, *c.aliases)}
    found: dict[str, list[int]] = {}
    for position, field_name in enumerate(header):
        column = lookup.get(_normalise(field_name))
        if column:
            found.setdefault(column, []).append(position)
    listed = ", ".join(header)
    if not found:
        return {}, f"{name}: no header row: no field of the first line is a known column (found: {listed})"
    clashes = [f"{', '.join(header[p] for p in ps)} -> {col}" for col, ps in found.items() if len(ps) > 1]
    if clashes:
        return {}, f"{name}: ambiguous columns: {'; '.join(clashes)}"
    missing = [col for col, c in spec.columns.items() if c.required and col not in found]
    if missing:
        return {}, f"{name}: missing required column(s): {', '.join(missing)} (found: {listed})"
    return {col: ps[0] for col, ps in found.items()}, None


# -- typing: SQL over the cells -----------------------------------------------------------------------


def _trimmed(position: int) -> str:
    """The cell without surrounding whitespace (NULL when nothing is left); most cells have none to
    trim, and the check for that is much cheaper than trimming a set of Unicode spaces."""
    c = f"c{position}"
    plain = f"ascii({c}) BETWEEN 33 AND 126 AND ascii(right({c}, 1)) BETWEEN 33 AND 126"
    return f"(CASE WHEN {plain} THEN {c} ELSE nullif(trim({c}, {_literal(WHITESPACE)}), '') END)"


_PLAIN_INTEGER = r"-?[0-9]{1,15}"
_AMBIGUOUS = r"-?[0-9]{1,3}([.,][0-9]{3})+"  # '1.234' or '1,234,567': thousands or decimals?
_NUMBER = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"


def _last(text: str, char: str) -> str:
    """1-based position of the last `char` in `text`, 0 when absent."""
    found = f"strpos(reverse({text}), '{char}')"
    return f"(CASE WHEN {found} > 0 THEN length({text}) - {found} + 1 ELSE 0 END)"


def _cleaned(t: str) -> str:
    """A number's text without spaces or currency sign; NULL for a plain integer (no convention to read)."""
    return (
        f"(CASE WHEN {t} IS NULL OR regexp_full_match({t}, '{_PLAIN_INTEGER}') THEN NULL "
        f"ELSE regexp_replace({t}, '[\\s\\x{{00A0}}]|R\\$', '', 'g') END)"
    )


def _marks(s: str) -> tuple[str, str, str]:
    """(last comma, last dot, ambiguous) of the cleaned number text `s`."""
    comma, dot = _last(s, ","), _last(s, ".")
    return comma, dot, f"(regexp_full_match({s}, '{_AMBIGUOUS}') AND NOT ({comma} > 0 AND {dot} > 0))"


def _number(t: str, s: str, column_comma: bool) -> str:
    """Numbers written '1234.5', '1,234.5', '1234,5' or '1.234,5' (a currency sign and spaces ignored);
    `s` is the text cleaned by `_cleaned`.

    A value with both marks shows the convention (the last one is the decimal mark); the column's clear
    cases decide the ambiguous ones ('1.234'); with no clear case a ';'-separated file is Brazilian.
    """
    comma, dot, ambiguous = _marks(s)
    comma_decimal = f"(CASE WHEN {ambiguous} THEN {str(column_comma).upper()} ELSE {comma} > {dot} END)"
    cleaned = (
        f"(CASE WHEN {comma_decimal} THEN replace(replace({s}, '.', ''), ',', '.') ELSE replace({s}, ',', '') END)"
    )
    general = f"(CASE WHEN regexp_full_match({cleaned}, '{_NUMBER}') THEN TRY_CAST({cleaned} AS DOUBLE) END)"
    value = f"(CASE WHEN {t} IS NULL THEN NULL WHEN {s} IS NULL THEN CAST({t} AS DOUBLE) ELSE {general} END)"
    return f"(CASE WHEN isfinite({value}) THEN {value} END)"


def _votes(s: str) -> tuple[str, str]:
    """Aggregates counting the column's values that clearly use a decimal comma, and a decimal point."""
    comma, dot, ambiguous = _marks(s)

    def vote(first: str, second: str) -> str:
        clear = f"CASE WHEN {s} IS NULL THEN 0 WHEN {ambiguous} THEN 0 WHEN {first} > {second} THEN 1 ELSE 0 END"
        return f"coalesce(sum({clear}), 0)"

    return vote(comma, dot), vote(dot, comma)


def _date(t: str) -> str:
    """ISO YYYY-MM-DD (optionally with a time) or Brazilian dd/mm/yyyy; anything else is NULL."""
    iso = f"length({t}) = 10 AND substr({t}, 5, 1) = '-' AND substr({t}, 8, 1) = '-'"  # the common case first
    return (
        f"(CASE WHEN {iso} THEN try_strptime({t}, '%Y-%m-%d')::DATE "
        f"WHEN regexp_full_match({t}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}([T ].*)?') "
        f"THEN try_strptime(left({t}, 10), '%Y-%m-%d')::DATE "
        f"WHEN regexp_full_match({t}, '[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{4}}(\\s.*)?') "
        f"THEN try_strptime(regexp_extract({t}, '^[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{4}}'), '%d/%m/%Y')::DATE END)"
    )


def _spelled(t: str, spellings: Mapping[str, str]) -> str:
    """The canonical value of each spelling found in the file (CASE over the few distinct spellings)."""
    if not spellings:
        return "NULL::VARCHAR"
    branches = " ".join(f"WHEN {_literal(raw)} THEN {_literal(value)}" for raw, value in spellings.items())
    return f"(CASE {t} {branches} END)"


_SQL_TYPE = {"str": "VARCHAR", "float": "DOUBLE", "date": "DATE"}


class _Parse:
    """One export through the passes of `parse_export` (see the module doc)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        source: _Source,
        spec: TableSpec,
        table: str,
        name: str,
        mapping: dict[str, int],
        prefix: Path,
    ) -> None:
        self.con, self.source, self.spec, self.table, self.name = con, source, spec, table, name
        self.mapping, self.prefix = mapping, prefix
        self.tag = uuid.uuid4().hex[:12]
        self.warnings = list(source.warnings)

    def run(self) -> ParsedExport:
        records, column_comma, spellings = self._survey()
        view = f"erp_typed_{self.tag}"
        self.con.execute(f"CREATE TEMP VIEW {view} AS {self._typed_sql(column_comma, spellings)}")
        try:
            good_rows = self._write_good(view)
            bad = self._bad_rows(view) if good_rows < records else pd.DataFrame()
        finally:
            self.con.execute(f"DROP VIEW IF EXISTS {view}")
        quarantine = self._quarantine(bad)
        dropped = bad["_record"].to_numpy(dtype=np.int64) if len(bad) else np.empty(0, dtype=np.int64)
        duplicates = self._duplicates(dropped)
        if len(duplicates):
            quarantine = pd.concat([quarantine, duplicates], ignore_index=True)
            good_rows -= len(duplicates)
            dropped = np.sort(np.concatenate([dropped, duplicates["_record"].to_numpy(dtype=np.int64)]))
        quarantine = self._truncated_last_line(quarantine, records)
        quarantine = quarantine.sort_values("line_number", kind="stable", ignore_index=True).assign(
            source_file=self.name
        )
        pq.write_table(
            pa.Table.from_pandas(quarantine[QUARANTINE_COLUMNS], schema=_QUARANTINE_SCHEMA, preserve_index=False),
            quarantine_path(self.prefix),
        )
        line_map = self.source.line_map.to_json() if self.source.line_map else None
        encoding = self.source.prepared.encoding if self.source.prepared else None
        layout = {"records": records, "dropped": dropped.tolist(), "line_map": line_map, "encoding": encoding}
        layout_path(self.prefix).write_text(json.dumps(layout), encoding="utf-8")
        return ParsedExport(None, good_rows, len(quarantine), tuple(self.warnings))

    # -- pass 1: counts, the column conventions, the spellings, the reader's rejects and the line map --

    def _survey(self) -> tuple[int, dict[str, bool], dict[str, dict[str, str]]]:
        floats = [c for c, col in self.spec.columns.items() if col.kind == "float" and c in self.mapping]
        spelled = [c for c, col in self.spec.columns.items() if col.values is not None and c in self.mapping]
        prepared = self.source.prepared
        multiline = prepared is not None and prepared.quotes
        rejects_table = f"erp_rejects_{self.tag}" if prepared is not None else None
        texts = ", ".join(f"{_trimmed(p)} AS t{p}" for p in sorted(set(self.mapping.values())))
        newlines = " + ".join(
            f"coalesce(length(c{i}) - length(replace(c{i}, chr(10), '')), 0)" for i in range(len(self.source.header))
        )
        aggregates = ["count(*) AS records"]
        for c in floats:
            comma, dot = _votes(f"s{self.mapping[c]}")
            aggregates += [f"{comma} AS comma_{c}", f"{dot} AS dot_{c}"]
        if multiline:
            aggregates.append("list([_record, newlines]) FILTER (WHERE newlines > 0) AS multiline")
        groups = ", ".join(["()", *(f"(t{self.mapping[c]})" for c in spelled)])
        keys = "".join(f", t{self.mapping[c]}, GROUPING(t{self.mapping[c]}) AS g_{c}" for c in spelled)
        sql = (
            f"WITH cells AS ({self.source.cells_sql(rejects_table)}), "
            f"texts AS (SELECT _record, {texts}{', ' + newlines + ' AS newlines' if multiline else ''} FROM cells), "
            f"numbers AS (SELECT *{self._cleaned_columns()} FROM texts) "
            f"SELECT {', '.join(aggregates)}{keys} FROM numbers GROUP BY GROUPING SETS ({groups})"
        )
        try:
            result = self.con.execute(sql).df()
            rejects, excluded = self._rejects(rejects_table) if rejects_table else ([], [])
        finally:
            if rejects_table:
                self.con.execute(f"DROP TABLE IF EXISTS {rejects_table}; DROP TABLE IF EXISTS {rejects_table}_scan")
        overall = (
            result[result[[f"g_{c}" for c in spelled]].astype(bool).all(axis=1)].iloc[0] if spelled else result.iloc[0]
        )
        comma_hint = self.source.separator == ";"
        column_comma = {}
        for c in floats:
            comma_votes, dot_votes = int(overall[f"comma_{c}"]), int(overall[f"dot_{c}"])
            column_comma[c] = comma_votes > dot_votes or (comma_votes == dot_votes and comma_hint)
        spellings: dict[str, dict[str, str]] = {}
        for c in spelled:
            values = self.spec.columns[c].values
            assert values is not None
            found = result.loc[~result[f"g_{c}"].astype(bool), f"t{self.mapping[c]}"].dropna()
            spellings[c] = {raw: values[_normalise(raw)] for raw in found if _normalise(raw) in values}
        if prepared is not None:
            multi = overall["multiline"] if multiline and isinstance(overall["multiline"], list | np.ndarray) else []
            self.source.rejects = rejects
            self.source.line_map = LineMap(
                prepared.header_line,
                tuple(sorted({*prepared.blank_lines, *excluded})),
                tuple(sorted((int(r), int(n)) for r, n in multi)),
            )
        return int(overall["records"]), column_comma, spellings

    def _cleaned_columns(self) -> str:
        floats = sorted(
            {self.mapping[c] for c, col in self.spec.columns.items() if col.kind == "float" and c in self.mapping}
        )
        return "".join(f", {_cleaned(f't{p}')} AS s{p}" for p in floats)

    def _rejects(self, table: str) -> tuple[list[tuple[int, str, str]], list[int]]:
        """The reader's rejected records: quarantine entries (line, reason, raw) and every line they cover."""
        prepared = self.source.prepared
        assert prepared is not None
        found = "TRY_CAST(regexp_extract(error_message, 'Found: ([0-9]+)', 1) AS BIGINT)"  # one error per field
        rows = self.con.execute(
            f"SELECT line_byte_position, list(DISTINCT error_type), CASE WHEN bool_or(error_type = 'TOO MANY COLUMNS') "
            f"THEN max({found}) ELSE min({found}) END, any_value(csv_line) FROM {table} "
            f"GROUP BY line_byte_position ORDER BY line_byte_position"
        ).fetchall()
        if not rows:
            return [], []
        lines = lines_of_offsets(prepared.path, [int(r[0]) for r in rows])
        spans = [1 + (r[3] or "").strip("\n").count("\n") for r in rows]
        texts = read_spans(prepared.path, list(zip(lines, spans, strict=True)), MAX_LINE_CHARS)
        entries, excluded = [], []
        expected = len(self.source.header)
        for (_, kinds, found, _), line, span, (text, length) in zip(rows, lines, spans, texts, strict=True):
            excluded += range(line, line + span)
            if not text.strip() and span == 1:
                continue  # a line of spaces: blank, not a record
            if "LINE SIZE OVER MAXIMUM" in kinds or length > MAX_LINE_CHARS:
                reason = f"line too long: {length} characters (limit {MAX_LINE_CHARS})"
            elif "UNQUOTED VALUE" in kinds:
                reason = "unterminated or misplaced quote (a quoted field must end with a quote before the separator)"
                if span > 1:
                    reason += f"; the quote opened here runs over lines {line}-{line + span - 1}, quarantined with it"
            elif "INVALID ENCODING" in kinds or "INVALID UNICODE" in kinds:
                reason = "bytes not valid UTF-8"
            else:
                reason = f"wrong number of fields: expected {expected}, found {found} (truncated or malformed line)"
            entries.append((line, reason, _raw_text(text, length)))
        return entries, excluded

    # -- pass 2: typed good rows to Parquet ------------------------------------------------------------

    def _typed_sql(self, column_comma: dict[str, bool], spellings: dict[str, dict[str, str]]) -> str:
        """SELECT the cells, the typed columns, a problem code per column (see `_reason`) and _bad."""
        values, codes = [], []
        for col, column in self.spec.columns.items():
            sql_type = _SQL_TYPE[column.kind]
            if col not in self.mapping:
                default = _literal(column.default) if column.default is not None else "NULL"
                values.append(f"CAST({default} AS {sql_type}) AS {col}")
                continue
            t = f"t{self.mapping[col]}"
            if column.kind == "date":
                value = _date(t)
            elif column.kind == "float":
                value = _number(t, f"s{self.mapping[col]}", column_comma[col])
            elif column.values is not None:
                value = _spelled(t, spellings[col])
            else:
                value = t
            values.append(f"{value} AS {col}")
            blank = "'missing'" if column.required or column.default is not None else "NULL"
            checks = [f"WHEN {t} IS NULL THEN {blank}"]
            if column.kind in ("date", "float") or column.values is not None:
                checks.append(f"WHEN {col} IS NULL THEN 'invalid'")
            if column.nonnegative or column.positive:
                checks.append(f"WHEN {col} < 0 THEN 'negative'")
            if column.positive:
                checks.append(f"WHEN {col} = 0 THEN 'zero'")
            codes.append((f"p_{col}", f"CASE {' '.join(checks)} END"))
        for col, column in self.spec.columns.items():
            if column.not_before:
                codes.append((f"p_{col}_before", f"CASE WHEN {col} < {column.not_before} THEN 'before' END"))
        for i, rule in enumerate(self.spec.row_rules):
            codes.append((f"p_rule_{i}", f"CASE WHEN {rule.condition} THEN 'rule' END"))
        widths = " + ".join(f"coalesce(length(c{i}), 0)" for i in range(len(self.source.header)))
        codes.append(
            ("p_line", f"CASE WHEN {widths} + {len(self.source.header) - 1} > {MAX_LINE_CHARS} THEN 'long' END")
        )
        texts = ", ".join(f"{_trimmed(p)} AS t{p}" for p in sorted(set(self.mapping.values())))
        return (
            f"WITH cells AS ({self.source.cells_sql()}), "
            f"texts AS (SELECT *, {texts} FROM cells), "
            f"numbers AS (SELECT *{self._cleaned_columns()} FROM texts), "
            f"typed AS (SELECT *, {', '.join(values)} FROM numbers), "
            f"coded AS (SELECT *, {', '.join(f'{sql} AS {name}' for name, sql in codes)} FROM typed) "
            f"SELECT *, ({' OR '.join(f'{name} IS NOT NULL' for name, _ in codes)}) AS _bad FROM coded"
        )

    def _write_good(self, view: str) -> int:
        columns = ", ".join(self.spec.columns)
        source_file = f", {_literal(self.name)} AS source_file" if self.table == "erp_movements" else ""
        written = self.con.execute(
            f"COPY (SELECT {columns}{source_file} FROM {view} WHERE NOT _bad) "
            f"TO {_literal(str(good_path(self.prefix)))} (FORMAT parquet, {PARQUET_OPTIONS})"
        ).fetchone()
        return int(written[0]) if written else 0

    def _bad_rows(self, view: str) -> pd.DataFrame:
        return self.con.execute(f"SELECT * FROM {view} WHERE _bad ORDER BY _record").df()

    # -- the quarantine --------------------------------------------------------------------------------

    def _quarantine(self, bad: pd.DataFrame) -> pd.DataFrame:
        """Rejected records and rows with a problem cell: line, reason, raw text (and the record)."""
        rejects = pd.DataFrame(self.source.rejects, columns=["line_number", "reason", "raw_row"])
        if not len(bad):
            return rejects.assign(_record=pd.Series(dtype="Int64"))
        records = bad["_record"].to_numpy(dtype=np.int64)
        lines, raw, lengths = self.source.locate(self.con, records)
        rows = bad.astype(object).where(bad.notna(), None).to_dict("records")
        reasons = [self._reason(row, length) for row, length in zip(rows, lengths, strict=True)]
        cells = pd.DataFrame({"line_number": lines, "reason": reasons, "raw_row": raw, "_record": records})
        return pd.concat([rejects, cells], ignore_index=True) if len(rejects) else cells

    def _reason(self, row: dict, length: int) -> str:
        """Every problem of one row, in column order, joined with '; '."""
        if row.get("p_line"):
            return f"line too long: {length} characters (limit {MAX_LINE_CHARS})"
        reasons = []
        for col, column in self.spec.columns.items():
            code = row.get(f"p_{col}")
            text = row.get(f"t{self.mapping[col]}") if col in self.mapping else None
            if code == "missing":
                reasons.append(f"missing {col}")
            elif code == "invalid":
                kind = {"date": "bad date in", "float": "non-numeric"}.get(column.kind, "unknown")
                reasons.append(f"{kind} {col}: {text!r}")
            elif code == "negative":
                reasons.append(f"negative {col}: {text!r}")
            elif code == "zero":
                reasons.append(f"zero {col}")
        for col, column in self.spec.columns.items():
            if column.not_before and row.get(f"p_{col}_before"):
                reasons.append(f"{col} before {column.not_before}: {pd.Timestamp(row[col]).date().isoformat()!r}")
        reasons += [rule.reason for i, rule in enumerate(self.spec.row_rules) if row.get(f"p_rule_{i}")]
        return "; ".join(reasons)

    def _duplicates(self, dropped: np.ndarray) -> pd.DataFrame:
        """Good rows repeating an earlier good row (every value) or its key: taken out of the good file.

        Hashes find the candidates in one pass; the exact comparison runs on those alone.
        """
        good = f"read_parquet({_literal(str(good_path(self.prefix)))}, file_row_number = true)"
        columns = ", ".join(self.spec.columns)
        key = list(self.spec.key)
        compared = [f"upper({k})" if self.spec.columns[k].code else k for k in key]  # codes: case-insensitive
        key_present = " AND ".join(f"{k} IS NOT NULL" for k in key) or "FALSE"
        # a row with its key is a candidate when its key repeats (an exact copy repeats the key too);
        # a row without one when all its values repeat
        hashed = f"CASE WHEN {key_present} THEN hash({', '.join(compared) or 'NULL'}) ELSE hash({columns}) END"
        key_text = f"concat_ws('|', {', '.join(f'CAST({k} AS VARCHAR)' for k in key)})" if key else "NULL"
        found = self.con.execute(
            f"WITH h AS (SELECT file_row_number AS r, {key_present} AS kp, {hashed} AS hv FROM {good}), "
            f"candidates AS (SELECT r FROM h WHERE (kp, hv) IN "
            f"(SELECT kp, hv FROM h GROUP BY kp, hv HAVING count(*) > 1)), "
            f"rows AS (SELECT file_row_number AS r, * FROM {good} "
            f"WHERE file_row_number IN (SELECT r FROM candidates)), "
            f"exact AS (SELECT r, min(r) OVER (PARTITION BY {columns}) AS first FROM rows), "
            f"keyed AS (SELECT r, min(r) OVER (PARTITION BY {', '.join(compared) or 'NULL'}) AS first, "
            f"{key_text} AS key_text FROM rows WHERE {key_present} "
            f"AND r NOT IN (SELECT r FROM exact WHERE r <> first)) "
            f"SELECT r, first, NULL AS key_text FROM exact WHERE r <> first "
            f"UNION ALL SELECT r, first, key_text FROM keyed WHERE r <> first ORDER BY r"
        ).df()
        if not len(found):
            return _empty_located()
        rows = found["r"].to_numpy(dtype=np.int64)
        records = _records_of_rows(rows, dropped)
        firsts = _records_of_rows(found["first"].to_numpy(dtype=np.int64), dropped)
        lines, raw, _ = self.source.locate(self.con, np.concatenate([records, firsts]))
        n = len(found)
        key_name = "+".join(key)
        reasons = [
            f"exact duplicate: the same as line {lines[n + i]}"
            if text is None or (isinstance(text, float) and np.isnan(text))
            else f"duplicate {key_name}: {text!r} (first at line {lines[n + i]})"
            for i, text in enumerate(found["key_text"])
        ]
        self._drop_rows(rows)
        return pd.DataFrame({"line_number": lines[:n], "reason": reasons, "raw_row": raw[:n], "_record": records})

    def _drop_rows(self, rows: np.ndarray) -> None:
        target = good_path(self.prefix)
        rewritten = target.with_name(target.name + ".tmp")
        self.con.execute(
            f"COPY (SELECT * EXCLUDE (file_row_number) FROM read_parquet({_literal(str(target))}, "
            f"file_row_number = true) WHERE file_row_number NOT IN (SELECT unnest($1::BIGINT[]))) "
            f"TO {_literal(str(rewritten))} (FORMAT parquet, {PARQUET_OPTIONS})",
            [rows.tolist()],
        )
        rewritten.replace(target)

    def _truncated_last_line(self, quarantine: pd.DataFrame, records: int) -> pd.DataFrame:
        """A file without a newline at its end may have been cut: a last line that fails is said to be
        truncated, and one that loads is named in a warning."""
        prepared, line_map = self.source.prepared, self.source.line_map
        if prepared is None or line_map is None or prepared.final_newline or not records:
            return quarantine
        last_line = int(line_map.lines([records - 1])[0])
        if len(quarantine) and quarantine["line_number"].max() > last_line:
            return quarantine  # the last line is a record the reader rejected: its reason says so
        last = quarantine["_record"] == records - 1
        if last.any():
            reasons = "truncated last line (the file does not end with a newline): " + quarantine.loc[last, "reason"]
            return quarantine.assign(reason=quarantine["reason"].where(~last, reasons))
        self.warnings.append(
            f"{self.name}: the file does not end with a newline; its last line ({last_line}) was loaded as it is: "
            "check that the export is complete"
        )
        return quarantine


def _records_of_rows(rows: np.ndarray, dropped: np.ndarray | list[int]) -> np.ndarray:
    """Counted-record number of each good row, given the sorted records that are not in the good file."""
    gaps = np.asarray(dropped, dtype=np.int64)
    before = gaps - np.arange(len(gaps))  # good rows before each dropped record
    return np.asarray(rows, dtype=np.int64) + np.searchsorted(before, rows, side="right")


def _empty_located() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "line_number": pd.Series(dtype=np.int64),
            "reason": pd.Series(dtype=object),
            "raw_row": pd.Series(dtype=object),
            "_record": pd.Series(dtype=np.int64),
            "source_file": pd.Series(dtype=object),
        }
    )


_QUARANTINE_SCHEMA = pa.schema(
    [("source_file", pa.string()), ("line_number", pa.int64()), ("reason", pa.string()), ("raw_row", pa.string())]
)


def empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=np.int64 if c == "line_number" else object) for c in QUARANTINE_COLUMNS})


def empty_table(table: str) -> pd.DataFrame:
    """A table with the contract's columns and types and no row."""
    spec = ERP_TABLES[table]
    columns = {
        name: pd.Series(dtype="float64" if column.kind == "float" else object) for name, column in spec.columns.items()
    }
    if table == "erp_movements":
        columns["source_file"] = pd.Series(dtype=object)
    return pd.DataFrame(columns)
