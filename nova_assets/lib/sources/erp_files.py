"""Import ERP export files (real or generated) into the canonical raw tables of the data contract.

Real exports are messy: `;` or `,` separators, Brazilian decimals, Latin-1 accents, Portuguese
headers, stray bad lines. A bad row must not stop the good ones from loading, and must not vanish
silently either: it goes to a quarantine table with its file, line number and reason. Only a file
that cannot be read at all (empty, binary, no usable header) is rejected as a whole.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MAX_LINE_CHARS = 10_000
RAW_ROW_CHARS = 500  # raw text kept in the quarantine for an over-long line
QUARANTINE_COLUMNS = ["source_file", "line_number", "reason", "raw_row"]
SEPARATORS = (",", ";", "\t", "|")
TEXT_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
STOP_WORDS = {"de", "do", "da", "dos", "das"}

Kind = Literal["str", "float", "date"]


@dataclass(frozen=True)
class Column:
    """One canonical column: its type, whether a file must have it, and the names it goes by."""

    kind: Kind
    required: bool = False
    aliases: tuple[str, ...] = ()
    values: Mapping[str, str] | None = None  # accepted spellings (normalised) -> canonical value
    nonnegative: bool = False
    positive: bool = False
    default: str | None = None  # value used when the file lacks the column
    not_before: str | None = None  # a date column this date may not precede (promised before ordered)


@dataclass(frozen=True)
class TableSpec:
    """A raw table: its columns, the key that must be unique, and the file names that hold it."""

    columns: Mapping[str, Column]
    key: tuple[str, ...] = ()  # rows lacking a key value (an optional key column left blank) are not compared
    file_words: tuple[str, ...] = ()


MOVEMENT_TYPES = {
    **dict.fromkeys(("issue", "saida", "consumo", "baixa", "requisicao", "s", "out"), "issue"),
    **dict.fromkeys(("receipt", "entrada", "recebimento", "e", "in"), "receipt"),
}
SITE_TYPES = {
    **dict.fromkeys(("warehouse", "almoxarifado", "deposito", "armazem", "cd"), "warehouse"),
    **dict.fromkeys(("tower", "torre", "erb", "site"), "tower"),
}
CRITICALITY = {"a": "A", "b": "B", "c": "C"}

_MATERIAL = Column(
    "str", True, ("material", "codigo_material", "cod_material", "item_id", "item", "sku", "material_code")
)
_SITE = Column(
    "str",
    True,
    ("site", "deposito", "local", "codigo_site", "cod_site", "codigo_local", "cod_deposito", "location", "location_id"),
)
_SUPPLIER = ("fornecedor", "codigo_fornecedor", "cod_fornecedor", "supplier", "vendor", "vendor_id")
_QUANTITY = ("quantidade", "qtd", "qtde", "qty", "quant")
_PO = (
    "pedido",
    "numero_pedido",
    "num_pedido",
    "nr_pedido",
    "no_pedido",
    "pedido_compra",
    "po",
    "po_number",
    "purchase_order",
)

ERP_TABLES: dict[str, TableSpec] = {
    "erp_materials": TableSpec(
        {
            "material_id": _MATERIAL,
            "description": Column("str", True, ("descricao", "descricao_material", "desc", "item_description", "nome")),
            "category": Column("str", False, ("categoria", "grupo", "familia", "grupo_material")),
            "unit": Column("str", False, ("unidade", "un", "und", "uom", "unidade_medida")),
            "unit_cost": Column(
                "float",
                False,
                ("custo_unitario", "preco_unitario", "custo", "preco", "valor_unitario", "cost", "price"),
                nonnegative=True,
            ),
            "criticality": Column("str", False, ("criticidade", "classe_abc", "abc", "classe"), values=CRITICALITY),
            "supplier_id": Column("str", False, _SUPPLIER),
        },
        key=("material_id",),
        file_words=("materials", "material", "materiais", "itens", "items", "catalogo"),
    ),
    "erp_sites": TableSpec(
        {
            "site_id": _SITE,
            "site_name": Column("str", False, ("nome_site", "nome_local", "nome", "name", "descricao")),
            "site_type": Column("str", False, ("tipo", "tipo_site", "tipo_local", "type"), values=SITE_TYPES),
            "region": Column("str", False, ("regiao", "territorio")),
            "state": Column("str", False, ("uf", "estado")),
            "municipality": Column("str", False, ("municipio", "cidade", "city")),
            "ibge_code": Column("str", False, ("codigo_ibge", "cod_ibge", "ibge", "cod_municipio", "codigo_municipio")),
            "latitude": Column("float", False, ("lat",)),
            "longitude": Column("float", False, ("lon", "long", "lng")),
            "sla_penalty_brl_day": Column(
                "float",
                False,
                ("multa_sla", "multa_sla_dia", "penalidade_sla", "multa_diaria", "sla_penalty"),
                nonnegative=True,
            ),
        },
        key=("site_id",),
        file_words=("sites", "site", "locais", "depositos"),
    ),
    "erp_suppliers": TableSpec(
        {
            "supplier_id": Column("str", True, _SUPPLIER),
            "supplier_name": Column("str", False, ("nome_fornecedor", "razao_social", "nome", "name")),
            "lead_time_mean_days": Column(
                "float",
                False,
                (
                    "lead_time",
                    "lead_time_medio",
                    "lead_time_mean",
                    "lead_time_days",
                    "prazo_entrega",
                    "prazo_medio",
                    "prazo_entrega_dias",
                ),
                nonnegative=True,
            ),
            "lead_time_std_days": Column(
                "float",
                False,
                ("lead_time_std", "lead_time_desvio", "desvio_prazo", "desvio_padrao_prazo"),
                nonnegative=True,
            ),
        },
        key=("supplier_id",),
        file_words=("suppliers", "supplier", "fornecedores", "fornecedor", "vendors"),
    ),
    "erp_movements": TableSpec(
        {
            "movement_date": Column(
                "date", True, ("data", "data_movimento", "data_movimentacao", "data_lancamento", "date", "dt")
            ),
            "material_id": _MATERIAL,
            "site_id": _SITE,
            # a consumption export often has no type column: its rows are issues
            "movement_type": Column(
                "str",
                False,
                ("tipo", "tipo_movimento", "tipo_movimentacao", "movimento", "type"),
                values=MOVEMENT_TYPES,
                default="issue",
            ),
            "quantity": Column("float", True, _QUANTITY, positive=True),
            # the ERP document number of one movement line: a re-export carrying it replaces that line
            "movement_id": Column(
                "str",
                False,
                (
                    "documento",
                    "num_documento",
                    "nr_documento",
                    "numero_documento",
                    "no_documento",
                    "doc",
                    "documento_material",
                    "document",
                    "document_number",
                ),
            ),
            "po_id": Column("str", False, _PO),  # on receipts: the purchase order received
        },
        key=("movement_id",),
        file_words=("movements", "movement", "movimentos", "movimentacao", "movimentacoes", "consumo", "consumption"),
    ),
    "erp_stock": TableSpec(
        {
            "snapshot_date": Column("date", True, ("data", "data_posicao", "data_saldo", "data_referencia", "date")),
            "material_id": _MATERIAL,
            "site_id": _SITE,
            "on_hand": Column(
                "float",
                True,
                ("saldo", "saldo_atual", "estoque", "estoque_atual", "quantidade", "qtd", "qty"),
                nonnegative=True,
            ),
        },
        key=("snapshot_date", "material_id", "site_id"),
        file_words=("stock_on_hand", "stock", "estoque", "saldo", "saldos", "inventory"),
    ),
    "erp_open_orders": TableSpec(
        {
            "po_id": Column("str", False, _PO),
            "material_id": _MATERIAL,
            "supplier_id": Column("str", False, _SUPPLIER),
            "quantity": Column("float", True, _QUANTITY, positive=True),
            "order_date": Column("date", False, ("data_pedido", "data_emissao", "data")),
            "expected_date": Column(
                "date",
                True,
                ("data_prevista", "data_entrega", "data_prevista_entrega", "previsao_entrega", "eta", "delivery_date"),
            ),
        },
        file_words=("open_orders", "pedidos_abertos", "pedidos_compra", "pedidos", "purchase_orders"),
    ),
    # every purchase order placed, received or not: promised vs actual delivery (receipts carry po_id)
    "erp_purchase_orders": TableSpec(
        {
            "po_id": Column("str", True, _PO),
            "material_id": _MATERIAL,
            "supplier_id": Column("str", False, _SUPPLIER),
            "site_id": Column("str", False, _SITE.aliases),
            "quantity": Column("float", True, _QUANTITY, positive=True),
            "order_date": Column("date", True, ("data_pedido", "data_emissao", "data_compra", "data")),
            "promised_date": Column(
                "date",
                True,
                (
                    "data_prevista",
                    "data_entrega_prometida",
                    "data_prometida",
                    "data_entrega_prevista",
                    "data_prevista_entrega",
                    "previsao_entrega",
                    "promised_delivery_date",
                    "due_date",
                    "eta",
                ),
                not_before="order_date",
            ),
        },
        key=("po_id", "material_id"),
        file_words=(
            "purchase_order_history",
            "po_history",
            "historico_pedidos",
            "pedidos_historico",
            "pedidos_compra_historico",
            "historico_compras",
        ),
    ),
}
# What the stock analyses read of the movements: 13 M rows at 10,000 materials, so the document
# numbers and source files (a string per row) stay on disk
STOCK_MOVEMENT_COLUMNS = ["movement_date", "material_id", "site_id", "movement_type", "quantity"]
# checked in this order, so "movimentos_estoque" is movements, "pedidos_materiais" open orders and
# "historico_pedidos" the purchase-order history
_CLASSIFY_ORDER = (
    "erp_purchase_orders",
    "erp_open_orders",
    "erp_movements",
    "erp_stock",
    "erp_suppliers",
    "erp_sites",
    "erp_materials",
)


@dataclass(frozen=True)
class ImportResult:
    """What one file gave: typed good rows, quarantined rows, or why the whole file was rejected."""

    good: pd.DataFrame
    quarantine: pd.DataFrame
    file_error: str | None = None

    def messages(self) -> list[str]:
        """Human-readable problems ("file:line: reason"), for logs and asset metadata."""
        if self.file_error:
            return [self.file_error]
        q = self.quarantine
        rows = zip(q["source_file"], q["line_number"], q["reason"], strict=True)
        return [f"{file}:{line}: {reason}" for file, line, reason in rows]


@dataclass(frozen=True)
class _Cells:
    """A file split into header and string cells, before any typing."""

    header: list[str]
    separator: str | None  # None for Parquet
    cells: pd.DataFrame  # one string column per header field, index = row position
    line_numbers: np.ndarray
    raw: pd.Series  # raw text (or values) of each row
    rejected: pd.DataFrame  # line-level problems, QUARANTINE_COLUMNS minus source_file


def file_content_hash(path: Path) -> str:
    """sha256 of the file's bytes, so a loader can skip a file it has already ingested."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def classify_erp_file(path: Path) -> str | None:
    """The raw table a landing file feeds, from words in its name; None if it is not an ERP export."""
    if path.suffix.lower() not in TEXT_SUFFIXES + PARQUET_SUFFIXES:
        return None
    words = _normalise(path.stem)
    for table in _CLASSIFY_ORDER:
        for word in ERP_TABLES[table].file_words:
            if re.search(rf"(^|_){word}(_|$)", words):
                return table
    return None


def read_erp_file(path: Path, table: str) -> ImportResult:
    """Read one export into `table` (a key of ERP_TABLES); never raises for bad content."""
    if table not in ERP_TABLES:
        raise ValueError(f"unknown ERP table {table!r}; expected one of {sorted(ERP_TABLES)}")
    spec = ERP_TABLES[table]
    try:
        parsed = _read_cells(path)
    except (OSError, ValueError) as exc:
        return _rejected(spec, table, f"{path.name}: {exc}")
    mapping, error = _map_header(parsed.header, spec, path.name)
    if error:
        return _rejected(spec, table, error)
    return _typed(parsed, spec, table, mapping, path.name)


def _normalise(name: str) -> str:
    """'Código do Material' -> 'codigo_material': lower case, no accents, no filler words."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    return "_".join(w for w in re.split(r"[^a-z0-9]+", plain) if w and w not in STOP_WORDS)


def _read_cells(path: Path) -> _Cells:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return _parquet_cells(path)
    data = path.read_bytes()
    if not data or data.isspace():
        raise ValueError("empty file")
    if b"\x00" in data[:65536]:
        raise ValueError("not a text file (binary content)")
    text = _decode(data)
    del data  # files run to a GB: hold one copy at a time
    sample = text[:65536]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > 0.01 * len(sample):
        raise ValueError("not a text file (binary content)")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = pc.list_flatten(pc.split_pattern(pa.array([text], pa.large_string()), "\n"))
    del text
    return _text_cells(lines)


def _decode(data: bytes) -> str:
    """UTF-8 first; Windows-1252/Latin-1 for exports from Brazilian Windows machines."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _split(line: str, sep: str) -> list[str]:
    return next(csv.reader([line], delimiter=sep)) if '"' in line else line.split(sep)


def _text_cells(lines: pa.Array) -> _Cells:
    """Lines and cells in Arrow buffers, split by Arrow's string kernels: an export of 13 M lines
    would otherwise become 100 M Python strings (tens of GB). Lines with a quote go through the csv
    module one by one."""
    blank = _bools(pc.equal(pc.utf8_trim_whitespace(lines), ""))
    if blank.all():
        raise ValueError("empty file")
    start = int(np.argmin(blank))
    header_line = lines[start].as_py()
    if len(header_line) > MAX_LINE_CHARS:
        raise ValueError(f"header line too long ({len(header_line)} characters)")
    sep = max(SEPARATORS, key=lambda s: len(_split(header_line, s)))
    header = [h.strip() for h in _split(header_line, sep)]
    body, numbers = lines.slice(start + 1), np.arange(start + 2, len(lines) + 1, dtype=np.int64)
    too_long = _bools(pc.greater(pc.utf8_length(body), MAX_LINE_CHARS))
    rows = ~too_long & ~blank[start + 1 :]
    quoted = rows & _bools(pc.match_substring(body, '"'))
    plain = rows & ~quoted
    raw, line_numbers = body.filter(plain), numbers[plain]
    cells = pc.split_pattern(raw, sep)
    if quoted.any():  # append the csv-parsed lines, then back to file order
        csv_split = pa.array([_split(line, sep) for line in body.filter(quoted).to_pylist()], cells.type)
        order = np.argsort(np.concatenate([line_numbers, numbers[quoted]]), kind="stable")
        cells = pa.concat_arrays([cells, csv_split]).take(order)
        raw = pa.concat_arrays([raw, body.filter(quoted)]).take(order)
        line_numbers = np.concatenate([line_numbers, numbers[quoted]])[order]
    fits = _bools(pc.equal(pc.list_value_length(cells), len(header)))
    rejected = [
        *(
            (number, f"line too long: {len(line)} characters (limit {MAX_LINE_CHARS})", line[:RAW_ROW_CHARS] + "...")
            for number, line in zip(numbers[too_long], body.filter(too_long).to_pylist(), strict=True)
        ),
        *(
            (
                number,
                f"wrong number of fields: expected {len(header)}, found {len(found)} (truncated or malformed line)",
                line,
            )
            for number, found, line in zip(
                line_numbers[~fits], cells.filter(~fits).to_pylist(), raw.filter(~fits).to_pylist(), strict=True
            )
        ),
    ]
    if not fits.all():
        cells, raw, line_numbers = cells.filter(fits), raw.filter(fits), line_numbers[fits]
    del lines, body
    return _Cells(
        header=header,
        separator=sep,
        cells=pd.DataFrame({i: _text_series(pc.list_element(cells, i)) for i in range(len(header))}),
        line_numbers=line_numbers,
        raw=_text_series(raw),
        rejected=pd.DataFrame(sorted(rejected), columns=["line_number", "reason", "raw_row"]),
    )


def _bools(values: pa.Array) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False).astype(bool)


def _text_series(values: pa.Array) -> pd.Series:
    """Arrow strings as a pandas Series without converting them to Python objects."""
    return pd.Series(pd.arrays.ArrowStringArray(values.cast(pa.large_string())))


def _parquet_cells(path: Path) -> _Cells:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a corrupt file
        raise ValueError(f"cannot read Parquet file ({type(exc).__name__}: {exc})") from exc
    cells = pd.DataFrame({i: _as_text(frame[c]) for i, c in enumerate(frame.columns)}, index=range(len(frame)))
    raw = pd.Series(
        [
            json.dumps(dict(zip(map(str, frame.columns), row, strict=True)), ensure_ascii=False)
            for row in cells.itertuples(index=False)
        ],
        dtype=object,
    )
    return _Cells(
        header=[str(c) for c in frame.columns],
        separator=None,
        cells=cells,
        line_numbers=np.arange(2, len(frame) + 2),  # as if the column names were line 1
        raw=raw,
        rejected=pd.DataFrame(columns=["line_number", "reason", "raw_row"]),
    )


def _as_text(values: pd.Series) -> pd.Series:
    """Parquet values as the strings a CSV would hold (dates as ISO, whole floats without '.0')."""
    if pd.api.types.is_datetime64_any_dtype(values):
        text = values.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
        text = values.astype("Int64").astype(str)
    else:
        text = values.astype(str)
    return text.where(values.notna(), "").astype(pd.StringDtype("pyarrow")).reset_index(drop=True)


def _map_header(header: list[str], spec: TableSpec, name: str) -> tuple[dict[str, int], str | None]:
    """Canonical column -> position in the file, or the reason the header is unusable."""
    lookup = {alias: col for col, c in spec.columns.items() for alias in (col, *c.aliases)}
    found: dict[str, list[int]] = {}
    for position, field in enumerate(header):
        column = lookup.get(_normalise(field))
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


def _typed(parsed: _Cells, spec: TableSpec, table: str, mapping: dict[str, int], name: str) -> ImportResult:
    cells = parsed.cells
    n = len(cells)
    problems: list[pd.Series] = []  # one reason (or None) per row, per check
    out: dict[str, pd.Series] = {}
    comma_hint = parsed.separator == ";"
    for col, column in spec.columns.items():
        if col not in mapping:
            out[col] = pd.Series([column.default] * n, dtype=object)
            continue
        values, found = _column(cells[mapping[col]].str.strip(), col, column, comma_hint)
        out[col] = values
        problems.extend(found)
    for col, column in spec.columns.items():
        if column.not_before:
            later, earlier = pd.to_datetime(out[col]), pd.to_datetime(out[column.not_before])
            problems.append(_reason(later < earlier, f"{col} before {column.not_before}: ", out[col].astype(str)))
    good = pd.DataFrame(out)
    if table == "erp_movements":
        good["source_file"] = name
    lines = pd.Series(parsed.line_numbers, dtype=np.int64)
    problems.append(_duplicates(parsed.raw, lines, "exact duplicate of line {line}"))
    reasons = _join(problems, n)
    if spec.key and n:
        comparable = reasons.isna() & good[list(spec.key)].notna().all(axis=1)
        columns = good[list(spec.key)].astype(str)
        key = (columns.iloc[:, 0] if len(spec.key) == 1 else columns.agg("|".join, axis=1)).where(comparable)
        template = "duplicate " + "+".join(spec.key) + " {value} (first at line {line})"
        duplicate = _duplicates(key, lines, template)
        reasons = pd.Series(np.where(reasons.notna(), reasons, duplicate), dtype=object)
    bad = reasons.notna().to_numpy()
    quarantine = pd.concat(
        [
            frame
            for frame in (
                parsed.rejected.assign(source_file=name),
                pd.DataFrame(
                    {
                        "source_file": name,
                        "line_number": parsed.line_numbers[bad],
                        "reason": reasons[bad].to_numpy(),
                        "raw_row": parsed.raw[bad].to_numpy(),
                    }
                ),
            )
            if len(frame)
        ]
        or [_empty_quarantine()],
        ignore_index=True,
    )
    quarantine = quarantine[QUARANTINE_COLUMNS].astype({"line_number": np.int64})
    return ImportResult(
        good=_typed_frame(good[~bad].reset_index(drop=True), spec, table),
        quarantine=quarantine.sort_values("line_number", ignore_index=True),
    )


def _column(text: pd.Series, col: str, column: Column, comma_hint: bool) -> tuple[pd.Series, list[pd.Series]]:
    """Typed values of one column, and the row problems it shows."""
    present = text != ""
    problems = []
    if column.required or column.default is not None:  # a blank cell is not the column's absence
        problems.append(_reason(~present, f"missing {col}"))
    if column.kind == "date":
        dates = _per_unique(text, _python_dates)
        problems.append(_reason(present & dates.isna(), f"bad date in {col}: ", text))
        return dates, problems
    if column.kind == "float":
        numbers = _per_unique(text, lambda u: _parse_numbers(u, comma_hint))
        problems.append(_reason(present & numbers.isna(), f"non-numeric {col}: ", text))
        if column.nonnegative or column.positive:
            problems.append(_reason(numbers < 0, f"negative {col}: ", text))
        if column.positive:
            problems.append(_reason(numbers == 0, f"zero {col}"))
        return numbers, problems
    if column.values is None:
        return _per_unique(text, lambda u: u.where(u != "", None)), problems
    spellings = column.values
    values = _per_unique(text, lambda u: u.map(lambda v: spellings.get(_normalise(v)) if v else None))
    problems.append(_reason(present & values.isna(), f"unknown {col}: ", text))
    return values.astype(object), problems


def _per_unique(text: pd.Series, parse: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Parse each distinct value once: exports repeat the same dates, codes and quantities a lot, and
    the rows share one Python object per distinct value (a date or code object per row would cost
    GBs on a 13 M-line export)."""
    uniques = pd.Series(text.unique(), dtype=object)
    positions = pd.Index(uniques).get_indexer(text)
    return pd.Series(parse(uniques).to_numpy()[positions], index=text.index)


def _reason(mask: pd.Series, reason: str, values: pd.Series | None = None) -> pd.Series:
    """`reason` where mask holds (followed by the offending value if given), else None."""
    out = pd.Series(None, index=mask.index, dtype=object)
    hit = mask.fillna(False).astype(bool)
    if hit.any():
        out[hit] = reason + values[hit].map(repr) if values is not None else reason
    return out


def _duplicates(values: pd.Series, lines: pd.Series, template: str) -> pd.Series:
    """For each later copy of a value, `template` filled with the value and its first line; else None."""
    present = values.notna()
    repeated = values.duplicated(keep="first") & present
    out = pd.Series(None, index=values.index, dtype=object)
    if repeated.any():
        first_line = lines[present].groupby(values[present], sort=False).transform("first")
        for idx in values.index[repeated]:
            out[idx] = template.format(line=first_line[idx], value=repr(values[idx]))
    return out


def _join(problems: list[pd.Series], n: int) -> pd.Series:
    """All reasons of a row joined with '; ' (None for a clean row)."""
    frame = pd.concat(problems, axis=1) if problems else pd.DataFrame(index=range(n))
    any_bad = frame.notna().any(axis=1)
    joined = pd.Series(None, index=frame.index, dtype=object)
    joined[any_bad] = frame[any_bad].apply(lambda row: "; ".join(r for r in row if isinstance(r, str)), axis=1)
    return joined


def _python_dates(text: pd.Series) -> pd.Series:
    """Parsed dates as Python dates (None where not a date): the contract's type."""
    dates = _parse_dates(text)
    return dates.dt.date.where(dates.notna(), None).astype(object)


def _parse_dates(text: pd.Series) -> pd.Series:
    """ISO YYYY-MM-DD (optionally with a time) or Brazilian dd/mm/yyyy; anything else is NaT."""
    iso = text.str.extract(r"^(\d{4}-\d{2}-\d{2})(?:[T ].*)?$", expand=False)
    brazilian = text.str.extract(r"^(\d{1,2}/\d{1,2}/\d{4})(?:\s.*)?$", expand=False)
    return pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce").fillna(
        pd.to_datetime(brazilian, format="%d/%m/%Y", errors="coerce")
    )


def _parse_numbers(text: pd.Series, comma_hint: bool) -> pd.Series:
    """Numbers written '1234.5', '1,234.5', '1234,5' or '1.234,5'.

    A value with both separators shows the convention (the last one is the decimal mark). The
    column's clear cases decide the ambiguous ones ('1.234'); with no clear case a ';'-separated
    file is taken as Brazilian.
    """
    s = text.str.replace(r"[\s\u00a0]|R\$", "", regex=True)
    comma, dot = s.str.rfind(","), s.str.rfind(".")
    both = (comma >= 0) & (dot >= 0)
    # '1.234' or '1,234,567': thousands or decimals? Only the rest of the column can tell.
    ambiguous = s.str.fullmatch(r"-?\d{1,3}([.,]\d{3})+") & ~both
    comma_votes = int(((comma > dot) & ~ambiguous).sum())
    dot_votes = int(((dot > comma) & ~ambiguous).sum())
    column_comma = comma_votes > dot_votes or (comma_votes == dot_votes and comma_hint)
    comma_decimal = (comma > dot).where(~ambiguous, column_comma)
    cleaned = s.str.replace(",", "", regex=False).where(
        ~comma_decimal, s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    )
    values = pd.to_numeric(cleaned.where(cleaned != ""), errors="coerce")
    return values.where(np.isfinite(values))


def _typed_frame(frame: pd.DataFrame, spec: TableSpec, table: str) -> pd.DataFrame:
    """Contract dtypes: float64 for numbers, Python dates and strings (None when missing)."""
    columns = [*spec.columns, *(["source_file"] if table == "erp_movements" else [])]
    frame = frame[columns].copy()
    for col, column in spec.columns.items():
        frame[col] = frame[col].astype("float64") if column.kind == "float" else frame[col].astype(object)
    return frame


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=np.int64 if c == "line_number" else object) for c in QUARANTINE_COLUMNS})


def _rejected(spec: TableSpec, table: str, error: str) -> ImportResult:
    empty = pd.DataFrame({col: pd.Series(dtype=object) for col in spec.columns})
    if table == "erp_movements":
        empty["source_file"] = pd.Series(dtype=object)
    return ImportResult(good=_typed_frame(empty, spec, table), quarantine=_empty_quarantine(), file_error=error)
