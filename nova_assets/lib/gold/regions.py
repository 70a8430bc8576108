"""Map the ERP's free-text site regions onto core.regions (Territórios de Identidade, states)."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
import psycopg


def normalise(name: str) -> str:
    """Accent-, case- and spacing-insensitive key: 'Recôncavo ' == 'reconcavo'."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def erp_region_code(state: str, name: str) -> str:
    """Stable code of a region known only from the ERP: BA-ERP-CENTRO-SUL."""
    return f"{state}-ERP-{normalise(name).upper().replace(' ', '-')}"


def resolve_site_regions(conn: psycopg.Connection, sites: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (sites with `state` upper-cased and a `region_code`, new ERP regions to insert).

    A site's region matches a known region of its state by name or alias; an unknown name becomes
    a region of source 'ERP', so every site still has one and the regional marts can group by it.
    """
    known = conn.execute("SELECT region_code, state_code, name, aliases FROM core.regions WHERE level = 'region'")
    lookup: dict[tuple[str, str], str] = {}
    for code, state, name, aliases in known.fetchall():
        for label in [name, *aliases]:
            lookup[(state, normalise(label))] = code
    sites = sites.assign(state=sites["state"].astype(str).str.strip().str.upper())
    codes, new = [], {}
    for state, region in zip(sites["state"], sites["region"], strict=True):
        code = lookup.get((state, normalise(region)))
        if code is None:
            code = erp_region_code(state, region)
            new[code] = {
                "region_code": code,
                "name": str(region).strip(),
                "level": "region",
                "state_code": state,
                "source": "ERP",
            }
        codes.append(code)
    return sites.assign(region_code=codes), pd.DataFrame(
        list(new.values()), columns=["region_code", "name", "level", "state_code", "source"]
    )
