"""A seeded, clearly SYNTHETIC installed base and maintenance history for the sample business.

Causal on purpose, so the failure model has something true to recover: every tower holds equipment
of EQUIPMENT_TYPES, installed when the tower was built or later; each unit fails as a power-law
process in its age (minimal repair: a corrective order replaces a part, the unit keeps its age)
with intensity

    lambda(a, d) = (k / eta) (a / eta)^(k - 1) * exp(heat_coef * heat_d + rain_coef * rain_d + u_site)

(a in years, k = shape > 1: wear-out; heat/rain: the covariates of lib.maintenance.covariates from
the weather passed in, the real Salvador record in the sample; u_site: a tower's log frailty, normal
with SITE_FRAILTY_SIGMA, centred over the towers). Failures per unit and day are Poisson with the
day's integrated intensity, exactly the likelihood the failure model maximises. A corrective order
uses each part line of its model's bill of materials with the line's probability; a preventive order
is due every `preventive_interval_days` and uses its model's kit, and is created PLAN_LEAD_DAYS
ahead, so the export holds the plan of the next weeks as open orders. PHASE_OUTS replace legacy
models by their successor in a campaign (past campaigns leave parts without installed base);
SUPERSESSIONS replace a part by a new one from an effective date. Preventive maintenance does not
change the hazard here (a simplification the note states).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from nova_assets.lib.maintenance.contracts import (
    ACTIVE,
    COMPLETED,
    CORRECTIVE,
    DECOMMISSIONED,
    MAINTENANCE_TABLES,
    OPEN,
    PHASE_OUT,
    PREVENTIVE,
)
from nova_assets.lib.maintenance.covariates import weather_covariates
from nova_assets.lib.sample.erp_generator import CATEGORIES

DAYS_PER_YEAR = 365.25
SITE_FRAILTY_SIGMA = 0.3  # sd of a tower's log hazard multiplier (salt air, power quality, access)
TOWER_AGE_YEARS = (2.0, 18.0)  # age range of the towers at the start of the data
ORIGINAL_SHARE = 0.5  # units installed with the tower; the rest were added at a uniform later date
PLAN_LEAD_DAYS = 42  # a preventive order is created (and exported as open) six weeks ahead
REPAIR_DAYS_P = 0.6  # repair delay after a failure: geometric, P(same day) = 0.6
PREVENTIVE_DELAY = (-2, 7)  # a preventive order is done this many days around its planned date
SUPERSESSIONS = 2  # parts replaced by a successor during the data
SUPERSESSION_DAYS_BEFORE_END = (120, 365)
WORK_ORDER_PREFIX = "40"  # SAP-like maintenance order numbers


@dataclass(frozen=True)
class PartLine:
    """One bill-of-materials line: the material is picked from the catalogue by category and a word
    of its description (any material of the category when none has the word)."""

    category: str
    keyword: str | None
    quantity: int
    probability: float = 1.0  # share of corrective orders using it; kit lines of preventive orders: 1


@dataclass(frozen=True)
class EquipmentModel:
    name: str
    installed_from: date  # units installed on or after this date are of this model (the newest that fits)
    corrective: tuple[PartLine, ...]
    preventive: tuple[PartLine, ...]


@dataclass(frozen=True)
class EquipmentType:
    code: str
    per_tower: tuple[int, int]  # units per tower, inclusive range
    shape: float  # Weibull k of the age intensity
    scale_years: float  # Weibull eta: expected failures by age a are (a / eta)^k on a neutral day
    heat: float  # log hazard per °C of daily maximum above the reference
    rain: float  # log hazard per unit of log(1 + mm)
    preventive_interval_days: int
    models: tuple[EquipmentModel, ...]
    failure_codes: tuple[str, ...]


@dataclass(frozen=True)
class PhaseOut:
    """A campaign replacing every unit of `old_model` by a new unit of `new_model` at the same tower,
    on dates spread over [end + first_day, end + last_day] (negative: before the end of the data)."""

    equipment_type: str
    old_model: str
    new_model: str
    first_day: int
    last_day: int


_ALWAYS = date(1990, 1, 1)
EQUIPMENT_TYPES = (
    EquipmentType(
        "RECTIFIER",
        (1, 1),
        shape=1.6,
        scale_years=6.0,
        heat=0.06,
        rain=0.10,
        preventive_interval_days=180,
        models=(
            EquipmentModel(
                "Sistema retificador 48V 200A",
                _ALWAYS,
                (
                    PartLine("Rectifiers", "Módulo retificador", 1, 0.9),
                    PartLine("Electrical Protection", "Disjuntor DC", 1, 0.4),
                ),
                (PartLine("Electrical Protection", "Fusível", 1),),
            ),
        ),
        failure_codes=("RET-MODULO", "RET-CONTROLADORA", "RET-SOBRETENSAO"),
    ),
    EquipmentType(
        "BATTERY",
        (1, 2),
        shape=2.2,
        scale_years=6.0,
        heat=0.12,
        rain=0.0,
        preventive_interval_days=180,
        models=(
            EquipmentModel(
                "Banco de baterias VRLA 48V",
                _ALWAYS,
                (PartLine("Batteries", "VRLA", 4, 1.0), PartLine("Hardware", "Barra de aterramento", 1, 0.3)),
                (PartLine("Hardware", "Fita de autofusão", 1),),
            ),
            EquipmentModel(
                "Banco de baterias LiFePO4 48V",
                date(2019, 1, 1),
                (PartLine("Batteries", "LiFePO4", 1, 1.0),),
                (PartLine("Hardware", "Fita de autofusão", 1),),
            ),
        ),
        failure_codes=("BAT-CAPACIDADE", "BAT-ELEMENTO", "BAT-TERMICA"),
    ),
    EquipmentType(
        "COOLING",
        (1, 2),
        shape=1.8,
        scale_years=5.0,
        heat=0.18,
        rain=0.0,
        preventive_interval_days=90,
        models=(
            EquipmentModel(
                "Ar-condicionado de shelter 12.000 BTU",
                _ALWAYS,
                (
                    PartLine("Cooling", "Ar-condicionado", 1, 0.3),
                    PartLine("Cooling", "Controlador de temperatura", 1, 0.5),
                ),
                (PartLine("Cooling", "Filtro de ar", 1),),
            ),
            EquipmentModel(
                "Trocador de calor para gabinete 48VDC",
                date(2016, 1, 1),
                (PartLine("Cooling", "Trocador de calor", 1, 0.3), PartLine("Cooling", "Ventilador", 2, 0.8)),
                (PartLine("Cooling", "Filtro de ar", 1),),
            ),
        ),
        failure_codes=("CLI-COMPRESSOR", "CLI-VENTILACAO", "CLI-CONTROLE"),
    ),
    EquipmentType(
        "RADIO",
        (3, 6),
        shape=1.4,
        scale_years=8.0,
        heat=0.05,
        rain=0.08,
        preventive_interval_days=365,
        models=(
            EquipmentModel(
                "Unidade de rádio remota RRU",
                _ALWAYS,
                (
                    PartLine("Radio Units", "RRU", 1, 0.4),
                    PartLine("Optical Modules", "SFP", 1, 0.6),
                    PartLine("Fibre Optics", "Cordão óptico", 1, 0.4),
                ),
                (PartLine("Hardware", "Kit de vedação", 1),),
            ),
            EquipmentModel(
                "Unidade de rádio ativa AAU 5G NR",
                date(2022, 8, 1),
                (
                    PartLine("Radio Units", "AAU", 1, 0.4),
                    PartLine("Optical Modules", "SFP28", 1, 0.6),
                    PartLine("Fibre Optics", "Cordão óptico", 1, 0.4),
                ),
                (PartLine("Hardware", "Kit de vedação", 1),),
            ),
        ),
        failure_codes=("RAD-HARDWARE", "RAD-OPTICO", "RAD-ALARME-VSWR"),
    ),
    EquipmentType(
        "ANTENNA",
        (3, 6),
        shape=1.3,
        scale_years=10.0,
        heat=0.0,
        rain=0.25,
        preventive_interval_days=365,
        models=(
            EquipmentModel(
                "Sistema irradiante setorial",
                _ALWAYS,
                (
                    PartLine("RF Cables", "Jumper", 1, 0.7),
                    PartLine("RF Connectors", "Conector", 2, 0.8),
                    PartLine("Antennas", "setorial", 1, 0.15),
                ),
                (PartLine("Hardware", "Kit de vedação", 1), PartLine("Hardware", "Fita de autofusão", 1)),
            ),
        ),
        failure_codes=("ANT-INFILTRACAO", "ANT-VSWR", "ANT-DESALINHAMENTO"),
    ),
    EquipmentType(
        "SURGE",
        (1, 2),
        shape=1.2,
        scale_years=6.0,
        heat=0.0,
        rain=0.35,
        preventive_interval_days=365,
        models=(
            EquipmentModel(
                "Proteção contra surtos e aterramento",
                _ALWAYS,
                (PartLine("Surge Protection", "DPS", 1, 0.9), PartLine("Surge Protection", "Centelhador", 1, 0.3)),
                (PartLine("Hardware", "Barra de aterramento", 1),),
            ),
        ),
        failure_codes=("SPD-DESCARGA-ATMOSFERICA", "SPD-ATERRAMENTO"),
    ),
)
EQUIPMENT_BY_CODE = {t.code: t for t in EQUIPMENT_TYPES}
PHASE_OUTS = (
    # shelter air conditioners replaced by heat exchangers: finished before the end of the data
    PhaseOut("COOLING", "Ar-condicionado de shelter 12.000 BTU", "Trocador de calor para gabinete 48VDC", -540, -60),
    # lead-acid batteries replaced by lithium: under way, part of it planned after the end
    PhaseOut("BATTERY", "Banco de baterias VRLA 48V", "Banco de baterias LiFePO4 48V", -240, 150),
)


@dataclass(frozen=True)
class MaintenanceSample:
    """The three ERP tables (contract columns), the part supersessions for the materials table, and the
    truth behind them (bill of materials, tower frailties) for tests and benches."""

    installed_base: pd.DataFrame
    work_orders: pd.DataFrame
    work_order_parts: pd.DataFrame
    supersessions: pd.DataFrame  # material_id (the successor), supersedes, effective_date
    bill_of_materials: pd.DataFrame  # equipment_type, model, kind, material_id, quantity, probability
    site_frailty: pd.Series  # tower -> log hazard multiplier


def generate_maintenance(
    materials: pd.DataFrame,
    sites: pd.DataFrame,
    weather: pd.DataFrame,
    *,
    start: date,
    end: date,
    seed: int = 42,
) -> MaintenanceSample:
    """Installed base and work orders of the sample's towers over [start, end] (plus the open plan).

    `materials`: material_id, description, category (the sample's catalogue); `sites`: site_id,
    site_type (equipment sits on the towers); `weather`: a weather_daily frame (date, temp_max,
    precipitation_mm) covering the period."""
    if end <= start:
        raise ValueError(f"end ({end}) must be after start ({start})")
    towers = sites.loc[sites["site_type"] == "tower", "site_id"].to_numpy()
    if towers.size == 0:
        raise ValueError("no tower among the sites: the installed base sits on towers")
    days = pd.date_range(start, end, freq="D")
    covariates = weather_covariates(weather, days).to_numpy()
    frailty = _rng(seed, 1).normal(0.0, SITE_FRAILTY_SIGMA, towers.size)
    frailty -= frailty.mean()
    bom = _bill_of_materials(materials, _rng(seed, 2))
    units = _installed_base(towers, start, end, _rng(seed, 3))
    failures = _failures(units, dict(zip(towers, frailty, strict=True)), covariates, days, _rng(seed, 4))
    corrective = _corrective_orders(units, failures, end, _rng(seed, 5))
    preventive = _preventive_orders(units, start, end, _rng(seed, 6))
    orders = _numbered(pd.concat([corrective, preventive], ignore_index=True))
    supersessions = _supersessions(materials, bom, end, _rng(seed, 7))
    parts = _parts(orders, units, bom, supersessions, _rng(seed, 8))
    return MaintenanceSample(
        installed_base=_contract(units, "erp_installed_base"),
        work_orders=_contract(orders, "erp_work_orders"),
        work_order_parts=parts,
        supersessions=supersessions,
        bill_of_materials=bom,
        site_frailty=pd.Series(frailty, index=towers, name="log_frailty"),
    )


def item_catalogue() -> pd.DataFrame:
    """A catalogue with every item of the sample's categories once (so every bill-of-materials line
    finds its part) plus a spare per category (a supersession needs an unused part to move to): the
    small business the tests and the bench generate from."""
    return pd.DataFrame(
        [
            {
                "material_id": f"MAT-{c.code}-{i:02d}",
                "description": item,
                "category": c.name,
                "unit_cost": c.cost_median,
            }
            for c in CATEGORIES
            for i, item in enumerate((*c.items, f"{c.items[0]} (nova geração)"))
        ]
    )


def write_maintenance_exports(sample: MaintenanceSample, erp_dir: Path) -> dict[str, Path]:
    """The three tables as ERP-style CSV exports (ISO dates) beside the sample's other ERP files."""
    erp_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, frame in (
        ("installed_base", sample.installed_base),
        ("work_orders", sample.work_orders),
        ("work_order_parts", sample.work_order_parts),
    ):
        path = erp_dir / f"{name}.csv"
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        written[name] = path
    return written


def _rng(seed: int, part: int) -> np.random.Generator:
    """One independent stream per part (as the ERP sample does), so changing one never shifts another."""
    return np.random.default_rng([seed, 1800 + part])


def _bill_of_materials(materials: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for kind_type in EQUIPMENT_TYPES:
        for model in kind_type.models:
            for kind, lines in ((CORRECTIVE, model.corrective), (PREVENTIVE, model.preventive)):
                for line in lines:
                    material = _pick_material(materials, line, rng)
                    if material is None:
                        continue
                    rows.append(
                        {
                            "equipment_type": kind_type.code,
                            "model": model.name,
                            "kind": kind,
                            "material_id": material,
                            "quantity": float(line.quantity),
                            "probability": line.probability if kind == CORRECTIVE else 1.0,
                        }
                    )
    bom = pd.DataFrame(rows, columns=["equipment_type", "model", "kind", "material_id", "quantity", "probability"])
    # two lines of one model and task may land on the same material: one line with both quantities
    return bom.groupby(["equipment_type", "model", "kind", "material_id"], as_index=False, sort=False).agg(
        quantity=("quantity", "sum"), probability=("probability", "max")
    )


def _pick_material(materials: pd.DataFrame, line: PartLine, rng: np.random.Generator) -> str | None:
    in_category = materials[materials["category"] == line.category]
    if line.keyword:
        named = in_category[in_category["description"].str.contains(line.keyword, case=False, regex=False)]
        in_category = named if len(named) else in_category
    if in_category.empty:
        return None
    return str(in_category["material_id"].iloc[rng.integers(len(in_category))])


def _model_at(kind_type: EquipmentType, installed: pd.Timestamp) -> str:
    fitting = [m for m in kind_type.models if pd.Timestamp(m.installed_from) <= installed]
    return (fitting or [kind_type.models[0]])[-1].name


def _installed_base(towers: np.ndarray, start: date, end: date, rng: np.random.Generator) -> pd.DataFrame:
    """Units per tower and type with install dates; phase-out campaigns decommission legacy units
    (the past part replaced by a new unit of the successor model on the same day)."""
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    rows = []
    for tower in towers:
        built = start_ts - pd.Timedelta(days=float(rng.uniform(*TOWER_AGE_YEARS)) * DAYS_PER_YEAR)
        for kind_type in EQUIPMENT_TYPES:
            lo, hi = kind_type.per_tower
            for number in range(1, int(rng.integers(lo, hi + 1)) + 1):
                later = rng.uniform() >= ORIGINAL_SHARE
                installed = built + pd.Timedelta(days=int(rng.uniform() * (end_ts - built).days)) if later else built
                rows.append(
                    {
                        "equipment_id": f"EQ-{tower}-{kind_type.code[:3]}-{number:02d}",
                        "equipment_type": kind_type.code,
                        "model": _model_at(kind_type, installed),
                        "site_id": tower,
                        "install_date": installed.normalize(),
                        "decommission_date": pd.NaT,
                    }
                )
    units = pd.DataFrame(rows)
    replacements = []
    for campaign in PHASE_OUTS:
        legacy = units.index[
            (units["equipment_type"] == campaign.equipment_type) & (units["model"] == campaign.old_model)
        ]
        offsets = rng.integers(campaign.first_day, campaign.last_day + 1, legacy.size)
        when = end_ts + pd.to_timedelta(offsets, unit="D")
        when = pd.DatetimeIndex(np.maximum(when, units.loc[legacy, "install_date"] + pd.Timedelta(days=1)))
        units.loc[legacy, "decommission_date"] = when
        done = legacy[when <= end_ts]
        replacements.append(
            units.loc[done].assign(
                equipment_id=units.loc[done, "equipment_id"] + "-R",
                model=campaign.new_model,
                install_date=units.loc[done, "decommission_date"],
                decommission_date=pd.NaT,
            )
        )
    units = pd.concat([units, *replacements], ignore_index=True)
    units["status"] = np.where(
        units["decommission_date"].isna(),
        ACTIVE,
        np.where(units["decommission_date"] <= end_ts, DECOMMISSIONED, PHASE_OUT),
    )
    return units.sort_values("equipment_id", ignore_index=True)


def _failures(
    units: pd.DataFrame,
    frailty: dict[str, float],
    covariates: np.ndarray,
    days: pd.DatetimeIndex,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One row per failure (unit row, failure_date): Poisson counts of each in-service day's integrated
    intensity."""
    day0 = days[0]
    first = np.maximum((units["install_date"] - day0).dt.days.to_numpy(), 0)
    stop = (units["decommission_date"].fillna(days[-1] + pd.Timedelta(days=1)) - day0).dt.days.to_numpy()
    stop = np.minimum(stop, len(days))  # exclusive: a unit is out of service on its decommission day
    install_offset = (units["install_date"] - day0).dt.days.to_numpy()
    found = []
    for row in range(len(units)):
        if stop[row] <= first[row]:
            continue
        kind_type = EQUIPMENT_BY_CODE[units.at[row, "equipment_type"]]
        day_idx = np.arange(first[row], stop[row])
        age = (day_idx - install_offset[row]) / DAYS_PER_YEAR
        exposure = ((age + 1 / DAYS_PER_YEAR) / kind_type.scale_years) ** kind_type.shape - (
            age / kind_type.scale_years
        ) ** kind_type.shape
        log_effect = (
            covariates[day_idx] @ np.array([kind_type.heat, kind_type.rain]) + frailty[units.at[row, "site_id"]]
        )
        counts = rng.poisson(exposure * np.exp(log_effect))
        hit = np.flatnonzero(counts)
        found.append(pd.DataFrame({"unit": row, "failure_date": days[day_idx[hit]], "count": counts[hit]}))
    if not found:
        return pd.DataFrame({"unit": pd.Series(dtype=int), "failure_date": pd.Series(dtype="datetime64[ns]")})
    failures = pd.concat(found, ignore_index=True)
    return failures.loc[failures.index.repeat(failures["count"]), ["unit", "failure_date"]].reset_index(drop=True)


def _corrective_orders(
    units: pd.DataFrame, failures: pd.DataFrame, end: date, rng: np.random.Generator
) -> pd.DataFrame:
    """One order per failure, opened that day, repaired after a geometric delay (open if not yet)."""
    unit = units.loc[failures["unit"].to_numpy()].reset_index(drop=True)
    failed = pd.DatetimeIndex(failures["failure_date"])
    done = failed + pd.to_timedelta(rng.geometric(REPAIR_DAYS_P, len(unit)) - 1, unit="D")
    codes = [
        EQUIPMENT_BY_CODE[t].failure_codes[rng.integers(len(EQUIPMENT_BY_CODE[t].failure_codes))]
        for t in unit["equipment_type"]
    ]
    return _orders(unit, CORRECTIVE, created=failed, planned=pd.NaT, failed=failed, codes=codes, done=done, end=end)


def _preventive_orders(units: pd.DataFrame, start: date, end: date, rng: np.random.Generator) -> pd.DataFrame:
    """Every unit's preventive orders due in [start, end + PLAN_LEAD_DAYS] while it is in service."""
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    horizon = end_ts + pd.Timedelta(days=PLAN_LEAD_DAYS)
    rows, planned = [], []
    for row, unit in units.iterrows():
        interval = EQUIPMENT_BY_CODE[unit["equipment_type"]].preventive_interval_days
        first_due = unit["install_date"] + pd.Timedelta(days=int(rng.integers(1, interval + 1)))
        last = (
            min(horizon, unit["decommission_date"] - pd.Timedelta(days=1))
            if pd.notna(unit["decommission_date"])
            else horizon
        )
        due = pd.date_range(first_due, last, freq=f"{interval}D")
        due = due[due >= start_ts]
        rows.extend([row] * len(due))
        planned.extend(due)
    unit = units.loc[rows].reset_index(drop=True)
    planned_at = pd.DatetimeIndex(planned)
    done = planned_at + pd.to_timedelta(rng.integers(PREVENTIVE_DELAY[0], PREVENTIVE_DELAY[1] + 1, len(unit)), unit="D")
    created = planned_at - pd.Timedelta(days=PLAN_LEAD_DAYS)
    return _orders(unit, PREVENTIVE, created=created, planned=planned_at, failed=pd.NaT, codes=None, done=done, end=end)


def _orders(
    unit: pd.DataFrame,
    kind: str,
    *,
    created: pd.DatetimeIndex,
    planned: pd.DatetimeIndex | pd.NaTType,
    failed: pd.DatetimeIndex | pd.NaTType,
    codes: list[str] | None,
    done: pd.DatetimeIndex,
    end: date,
) -> pd.DataFrame:
    completed = done <= pd.Timestamp(end)
    return pd.DataFrame(
        {
            "kind": kind,
            "equipment_id": unit["equipment_id"].to_numpy(),
            "site_id": unit["site_id"].to_numpy(),
            "created_date": created,
            "planned_date": planned,
            "failure_date": failed,
            "failure_code": codes,
            "completion_date": done.where(completed),
            "status": np.where(completed, COMPLETED, OPEN),
        }
    )


def _numbered(orders: pd.DataFrame) -> pd.DataFrame:
    """SAP-like order numbers in creation order."""
    orders = orders.sort_values(["created_date", "equipment_id", "kind"], kind="stable", ignore_index=True)
    orders.insert(0, "work_order_id", [f"{WORK_ORDER_PREFIX}{i:08d}" for i in range(1, len(orders) + 1)])
    return orders


def _supersessions(materials: pd.DataFrame, bom: pd.DataFrame, end: date, rng: np.random.Generator) -> pd.DataFrame:
    """SUPERSESSIONS parts of the bill of materials replaced by a catalogue material of the same
    category that no bill of materials uses yet, from an effective date before the end."""
    used = set(bom["material_id"])
    category = materials.set_index("material_id")["category"]
    rows = []
    for old in rng.permutation(sorted(used)):
        free = materials[(materials["category"] == category[old]) & ~materials["material_id"].isin(used)]
        if free.empty:
            continue
        new = str(free["material_id"].iloc[rng.integers(len(free))])
        used.add(new)
        days_before = int(rng.integers(*SUPERSESSION_DAYS_BEFORE_END))
        rows.append(
            {
                "material_id": new,
                "supersedes": str(old),
                "effective_date": pd.Timestamp(end) - pd.Timedelta(days=days_before),
            }
        )
        if len(rows) == SUPERSESSIONS:
            break
    frame = pd.DataFrame(rows, columns=["material_id", "supersedes", "effective_date"])
    return frame.assign(effective_date=_dates(frame["effective_date"]))


def _parts(
    orders: pd.DataFrame,
    units: pd.DataFrame,
    bom: pd.DataFrame,
    supersessions: pd.DataFrame,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Part lines of every order: its model's lines for its kind, each used with the line's
    probability; a superseded part is replaced by its successor on orders from the effective date
    (completion date, or the planned/failure date of an open order)."""
    model = units.set_index("equipment_id")["model"]
    keyed = orders.assign(model=orders["equipment_id"].map(model).to_numpy())
    lines = keyed[["work_order_id", "model", "kind", "completion_date", "planned_date", "failure_date"]].merge(
        bom, on=["model", "kind"], how="inner"
    )
    lines = lines[rng.uniform(size=len(lines)) < lines["probability"]]
    issued = lines["completion_date"].fillna(lines["planned_date"]).fillna(lines["failure_date"])
    successor = supersessions.set_index("supersedes")
    for old, row in successor.iterrows():
        moved = (lines["material_id"] == old) & (issued >= pd.Timestamp(row["effective_date"]))
        lines.loc[moved, "material_id"] = row["material_id"]
    parts = lines.groupby(["work_order_id", "material_id"], as_index=False, sort=True)["quantity"].sum()
    return parts[list(MAINTENANCE_TABLES["erp_work_order_parts"].columns)]


def _dates(values: pd.Series) -> pd.Series:
    """Python dates (None when missing): the type the ERP importer gives date columns."""
    stamps = pd.to_datetime(values)
    return pd.Series([d.date() if pd.notna(d) else None for d in stamps], index=values.index, dtype=object)


def _contract(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    spec = MAINTENANCE_TABLES[table]
    out = frame[list(spec.columns)].copy()
    for col, column in spec.columns.items():
        if column.kind == "date":
            out[col] = _dates(out[col])
    return out.reset_index(drop=True)
