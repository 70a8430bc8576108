"""ANATEL licensed-stations export -> anatel_5g_monthly (new and cumulative 5G NR stations per month).

The export has one row per emission (frequency, sector...), so a station appears many times; it is
counted once per technology, in the month of its first licence. Exports come as `;` or `|`
separated text in UTF-8 or Latin-1 depending on how they were downloaded.
"""

from __future__ import annotations

import io

import pandas as pd

SALVADOR_IBGE = "2927408"
NR = "NR"
REQUIRED = [
    "NumEstacao",
    "SiglaUf",
    "CodMunicipio",
    "Tecnologia",
    "DataLicenciamento",
    "DataPrimeiroLicenciamento",
]
OUTPUT_DTYPES = {
    "month": "object",
    "ibge_code": "object",
    "stations_5g_new": "int64",
    "stations_5g_total": "int64",
}


def parse_anatel_5g(payload: bytes, area: str = SALVADOR_IBGE) -> pd.DataFrame:
    """Export -> monthly 5G station counts for `area`: a 7-digit IBGE municipality code or a UF ('BA').

    For a UF the ibge_code column holds the 2-digit IBGE state code (BA -> '29'). Months run without
    gaps from the first licence to the last one. A station without DataPrimeiroLicenciamento falls
    back to DataLicenciamento.
    """
    stations = _read_export(payload)
    stations = stations[stations["Tecnologia"].str.upper() == NR]
    if area.isdigit():
        stations, code = stations[stations["CodMunicipio"] == area], area
    else:
        stations = stations[stations["SiglaUf"].str.upper() == area.upper()]
        codes = set(stations["CodMunicipio"].str[:2])
        if len(codes) > 1:
            raise ValueError(f"stations of UF {area} carry several state codes: {sorted(codes)}")
        code = codes.pop() if codes else ""
    if stations.empty:
        return pd.DataFrame({column: pd.Series(dtype=dtype) for column, dtype in OUTPUT_DTYPES.items()})

    licensed = _parse_dates(stations["DataPrimeiroLicenciamento"]).fillna(_parse_dates(stations["DataLicenciamento"]))
    first = licensed.groupby([stations["NumEstacao"], stations["Tecnologia"].str.upper()]).min()
    if first.isna().any():
        raise ValueError(f"{int(first.isna().sum())} 5G stations have no licence date")
    months = first.dt.to_period("M")
    new = months.value_counts().reindex(pd.period_range(months.min(), months.max(), freq="M"), fill_value=0)
    return pd.DataFrame(
        {
            "month": new.index.to_timestamp().date,
            "ibge_code": code,
            "stations_5g_new": new.to_numpy(dtype="int64"),
            "stations_5g_total": new.cumsum().to_numpy(dtype="int64"),
        }
    )


def _read_export(payload: bytes) -> pd.DataFrame:
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = payload.decode("latin-1")
    header = text.split("\n", 1)[0]
    separator = "|" if header.count("|") > header.count(";") else ";"
    frame = pd.read_csv(io.StringIO(text), sep=separator, dtype=str, keep_default_na=False)
    frame.columns = frame.columns.str.strip()
    missing = [column for column in REQUIRED if column not in frame.columns]
    if missing:
        raise ValueError(f"ANATEL export lacks columns {missing}")
    return frame[REQUIRED].apply(lambda column: column.str.strip())


def _parse_dates(values: pd.Series) -> pd.Series:
    """ISO dates (optionally with a time) or dd/mm/yyyy; empty -> NaT; anything else is an error."""
    iso = pd.to_datetime(values.str[:10], format="%Y-%m-%d", errors="coerce")
    brazilian = pd.to_datetime(values.str[:10], format="%d/%m/%Y", errors="coerce")
    parsed = iso.fillna(brazilian)
    bad = values[parsed.isna() & (values != "")]
    if not bad.empty:
        raise ValueError(f"unreadable ANATEL dates, e.g. {bad.iloc[0]!r}")
    return parsed
