"""A seeded, clearly SYNTHETIC telecom spare-parts business, written as ERP-style CSV exports.

The project needs realistic data to run end to end without a real ERP: a parts catalogue,
warehouses and towers across Bahia, suppliers, daily issues and receipts, stock, open purchase
orders and an ANATEL-style licensed-stations export whose 5G (NR) growth drives part of demand.
Everything comes from one seed, so the same arguments always give byte-identical files.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nova_assets.lib.sample import SYNTHETIC_MARKER

if TYPE_CHECKING:
    from nova_assets.lib.sample.maintenance_generator import MaintenanceSample

RATE_BY_CLASS = {  # daily event rate range of a material, by Syntetos-Boylan class
    "smooth": (2.5, 5.0),
    "erratic": (2.0, 4.0),
    "intermittent": (0.03, 0.45),
    "lumpy": (0.02, 0.35),
}
CLASS_SHARES = {"smooth": 0.15, "erratic": 0.15, "intermittent": 0.45, "lumpy": 0.25}
WEEKDAY_FACTOR = np.array([1.05, 1.05, 1.0, 1.0, 0.95, 0.45, 0.25])  # Monday .. Sunday
HOLIDAY_FACTOR = 0.3  # skeleton field crews on public holidays
HEAVY_RAIN_MM = 50.0
MODERATE_RAIN_MM = 20.0
NR_LAUNCH = date(2022, 8, 1)  # 3.5 GHz 5G switched on in Salvador
NR_DEMAND_LIFT = 0.4  # demand lift of a fully 5G-sensitive category at the end of the roll-out
REVIEW_WEEKDAY = 0  # purchase orders are placed on Mondays
SERVICE_Z = {"A": 2.05, "B": 1.65, "C": 1.28}
STRESSED_SHARE = 0.08  # materials whose supply breaks down near the end (so alerts appear)
STRESS_WINDOW_DAYS = 120
SALVADOR_MONTHLY_RAIN_MM = (110, 120, 160, 320, 330, 240, 180, 120, 100, 110, 120, 100)
MAX_EARLY_DAYS = 2  # an on-time order arrives 0..2 days before its promised date
PO_NUMBER_PREFIX = "45"  # SAP-like document numbers: purchase orders 45..., material documents 49...
MOVEMENT_NUMBER_PREFIX = "49"
CHUNK_MATERIALS = 1000  # materials simulated at a time: memory stays flat whatever the business size
WRITE_BLOCK_DAYS = 31  # movements written a month at a time
WRITE_BLOCK_ROWS = 1_000_000


@dataclass(frozen=True)
class _Category:
    name: str
    code: str  # used in the synthetic model numbers
    items: tuple[str, ...]
    unit: str
    cost_median: float
    cost_sigma: float
    rain: float  # sensitivity to heavy rain (lightning, water ingress)
    nr: float  # sensitivity to the 5G roll-out
    season_peak_doy: int
    season_amplitude: float
    size_scale: int  # units per failure (metres of cable, for instance)
    suppliers: tuple[str, ...]
    share: float


@dataclass(frozen=True)
class _Supplier:
    supplier_id: str
    name: str
    lead_time_mean: float  # the quoted lead time: order date + this = the promised date
    on_time_share: float  # share of orders delivered on or before the promised date
    late_days_mean: float  # mean delay of a late order, days (exponential)


@dataclass(frozen=True)
class _Municipality:
    name: str
    ibge_code: str
    region: str
    code: str
    latitude: float
    longitude: float
    network_weight: float  # relative size of the mobile network there


SUPPLIERS = (
    _Supplier("SUP-001", "Baía Power Sistemas de Energia Ltda", 7, 0.92, 3),
    _Supplier("SUP-002", "Atlântico RF Componentes Ltda", 9, 0.85, 4),
    _Supplier("SUP-003", "Recôncavo Telecom Distribuidora Ltda", 5, 0.96, 2),  # local, reliable
    _Supplier("SUP-004", "Fibra Nordeste Comércio de Ópticos Ltda", 12, 0.75, 6),
    _Supplier("SUP-005", "Sertão Eletro Industrial Ltda", 15, 0.6, 8),
    _Supplier("SUP-006", "Paulista Optical Networks Ltda", 21, 0.8, 7),
    _Supplier("SUP-007", "Importadora Pacífico Telecom Ltda", 45, 0.45, 20),  # imports: customs delays
    _Supplier("SUP-008", "Amazônia Eletrônica Industrial S.A.", 28, 0.7, 10),
)

CATEGORIES = (
    _Category(
        "Rectifiers",
        "REC",
        (
            "Módulo retificador 48V 2kW",
            "Módulo retificador 48V 3kW",
            "Módulo retificador 48V 4kW",
            "Controladora de sistema retificador",
            "Sistema retificador 48V 200A",
            "Unidade de distribuição DC 48V",
        ),
        "UN",
        4200,
        0.5,
        0.9,
        0.3,
        135,
        0.15,
        1,
        ("SUP-001", "SUP-008"),
        0.08,
    ),
    _Category(
        "Batteries",
        "BAT",
        (
            "Bateria VRLA 12V 100Ah",
            "Bateria VRLA 12V 150Ah",
            "Bateria VRLA 12V 200Ah",
            "Bateria LiFePO4 48V 50Ah",
            "Bateria LiFePO4 48V 100Ah",
            "Bateria LiFePO4 48V 150Ah",
        ),
        "UN",
        1800,
        0.7,
        0.3,
        0.3,
        40,
        0.2,
        1,
        ("SUP-001", "SUP-008"),
        0.08,
    ),
    _Category(
        "RF Cables",
        "CAB",
        (
            "Cabo coaxial RF 1/2 pol. superflexível",
            "Cabo coaxial RF 7/8 pol.",
            "Cabo coaxial RF 1-1/4 pol.",
            "Jumper RF 1/2 pol. 1m N-macho/DIN-macho",
            "Jumper RF 1/2 pol. 2m DIN-macho/DIN-macho",
            "Jumper RF 1/2 pol. 3m 4.3-10/DIN",
        ),
        "M",
        60,
        0.6,
        1.0,
        0.4,
        135,
        0.15,
        8,
        ("SUP-002", "SUP-003"),
        0.1,
    ),
    _Category(
        "RF Connectors",
        "CON",
        (
            "Conector N macho para cabo 1/2 pol.",
            "Conector DIN 7/16 macho para cabo 1/2 pol.",
            "Conector DIN 7/16 fêmea para cabo 7/8 pol.",
            "Conector 4.3-10 macho para cabo 1/2 pol.",
            "Adaptador N fêmea / DIN 7/16 macho",
            "Carga fantasma 50 ohm N macho",
        ),
        "UN",
        55,
        0.5,
        1.2,
        0.3,
        135,
        0.15,
        2,
        ("SUP-002", "SUP-003"),
        0.1,
    ),
    _Category(
        "Antennas",
        "ANT",
        (
            "Antena setorial 1800/2100MHz 17dBi 65 graus",
            "Antena setorial 700/850MHz 15dBi 65 graus",
            "Antena setorial multibanda 8 portas",
            "Antena micro-ondas 0,6m 15GHz",
            "Antena micro-ondas 1,2m 7GHz",
            "Antena 3,5GHz 32T32R para 5G",
        ),
        "UN",
        6500,
        0.8,
        0.5,
        0.9,
        135,
        0.1,
        1,
        ("SUP-006", "SUP-007"),
        0.06,
    ),
    _Category(
        "Fibre Optics",
        "FIB",
        (
            "Cordão óptico SM LC/LC duplex 3m",
            "Cordão óptico SM LC/LC duplex 10m",
            "Cordão óptico SM SC/APC-LC/UPC 5m",
            "Cabo óptico drop 2F",
            "Caixa de emenda óptica 24F",
            "Distribuidor interno óptico 12F",
        ),
        "UN",
        45,
        0.7,
        0.6,
        0.7,
        135,
        0.15,
        1,
        ("SUP-004",),
        0.1,
    ),
    _Category(
        "Optical Modules",
        "SFP",
        (
            "Módulo SFP 1G SX 850nm",
            "Módulo SFP 1G LX 1310nm",
            "Módulo SFP+ 10G LR 1310nm",
            "Módulo SFP+ 10G BiDi 1270/1330nm",
            "Módulo SFP28 25G LR 1310nm",
            "Módulo QSFP28 100G LR4",
        ),
        "UN",
        480,
        0.9,
        0.2,
        1.0,
        0,
        0.0,
        1,
        ("SUP-006", "SUP-007"),
        0.09,
    ),
    _Category(
        "Surge Protection",
        "SPD",
        (
            "Protetor de surto DPS classe II 275V",
            "Protetor de surto DPS classe I 48VDC",
            "Centelhador coaxial N 0-6GHz",
            "Para-raios tipo Franklin",
            "DPS para linha de dados RJ45",
            "Kit de aterramento para cabo 1/2 pol.",
        ),
        "UN",
        170,
        0.6,
        1.6,
        0.1,
        100,
        0.2,
        1,
        ("SUP-005", "SUP-003"),
        0.1,
    ),
    _Category(
        "Cooling",
        "VEN",
        (
            "Ventilador 48VDC 120mm",
            "Bandeja de ventiladores 3x 48VDC",
            "Filtro de ar para gabinete outdoor",
            "Ar-condicionado de shelter 12.000 BTU",
            "Trocador de calor para gabinete 48VDC",
            "Controlador de temperatura de shelter",
        ),
        "UN",
        260,
        1.0,
        0.2,
        0.2,
        40,
        0.35,
        1,
        ("SUP-005", "SUP-008"),
        0.08,
    ),
    _Category(
        "Electrical Protection",
        "DJT",
        (
            "Disjuntor DC 32A 1P",
            "Disjuntor DC 63A 1P",
            "Disjuntor termomagnético 40A 2P",
            "Fusível NH 100A",
            "Contatora 40A 220V",
            "Quadro de distribuição AC 12 posições",
        ),
        "UN",
        90,
        0.6,
        0.9,
        0.2,
        135,
        0.15,
        1,
        ("SUP-005", "SUP-003"),
        0.09,
    ),
    _Category(
        "Radio Units",
        "RAD",
        (
            "Unidade de rádio remota RRU 700MHz",
            "Unidade de rádio remota RRU 1800MHz",
            "Unidade de rádio remota RRU 2600MHz",
            "Placa de banda base BBU",
            "Unidade de rádio ativa AAU 3,5GHz 5G NR",
            "Rádio micro-ondas IDU/ODU 15GHz",
        ),
        "UN",
        24000,
        0.6,
        0.3,
        1.0,
        0,
        0.0,
        1,
        ("SUP-007", "SUP-006"),
        0.04,
    ),
    _Category(
        "Hardware",
        "FER",
        (
            "Abraçadeira inox para cabo 7/8 pol.",
            "Braçadeira tripla para cabo 1/2 pol.",
            "Fita de autofusão rolo 10m",
            "Barra de aterramento de cobre",
            "Passa-cabos de parede 4 furos",
            "Kit de vedação para conector RF",
        ),
        "UN",
        30,
        0.7,
        0.8,
        0.2,
        135,
        0.15,
        3,
        ("SUP-003", "SUP-002"),
        0.08,
    ),
)

MUNICIPALITIES = (  # IBGE codes and approximate centroids of real Bahia municipalities
    _Municipality("Salvador", "2927408", "Região Metropolitana de Salvador", "SSA", -12.9714, -38.5014, 1.0),
    _Municipality("Feira de Santana", "2910800", "Portal do Sertão", "FSA", -12.2664, -38.9663, 0.28),
    _Municipality("Lauro de Freitas", "2919207", "Região Metropolitana de Salvador", "LFR", -12.8944, -38.3272, 0.14),
    _Municipality("Vitória da Conquista", "2933307", "Sudoeste", "VDC", -14.8610, -40.8442, 0.18),
    _Municipality("Camaçari", "2905701", "Região Metropolitana de Salvador", "CMC", -12.6996, -38.3263, 0.15),
    _Municipality("Ilhéus", "2913606", "Litoral Sul", "IOS", -14.7935, -39.0460, 0.1),
    _Municipality("Juazeiro", "2918407", "Vale do São Francisco", "JZR", -9.4162, -40.5033, 0.1),
    _Municipality("Santo Antônio de Jesus", "2928703", "Recôncavo", "SAJ", -12.9614, -39.2584, 0.06),
    _Municipality("Itabuna", "2914802", "Sul Baiano", "ITB", -14.7876, -39.2781, 0.1),
    _Municipality("Barreiras", "2903201", "Oeste", "BRA", -12.1439, -44.9968, 0.09),
    _Municipality("Porto Seguro", "2925303", "Extremo Sul", "BPS", -16.4435, -39.0642, 0.08),
    _Municipality("Jequié", "2918001", "Centro-Sul", "JEQ", -13.8509, -40.0877, 0.08),
    _Municipality("Alagoinhas", "2900702", "Litoral Norte", "ALG", -12.1335, -38.4208, 0.07),
    _Municipality("Lençóis", "2919306", "Chapada Diamantina", "LEC", -12.5636, -41.3883, 0.02),
    _Municipality("Paulo Afonso", "2924009", "Nordeste Baiano", "PAV", -9.3983, -38.2216, 0.06),
    _Municipality("Teixeira de Freitas", "2931350", "Extremo Sul", "TXF", -17.5399, -39.7400, 0.08),
    _Municipality("Valença", "2932903", "Baixo Sul", "VLC", -13.3669, -39.0730, 0.04),
    _Municipality("Simões Filho", "2930709", "Região Metropolitana de Salvador", "SMF", -12.7866, -38.4029, 0.07),
    _Municipality("Cruz das Almas", "2909802", "Recôncavo", "CDA", -12.6675, -39.1008, 0.04),
    _Municipality("Guanambi", "2911709", "Centro-Sul", "GNB", -14.2231, -42.7799, 0.05),
    _Municipality("Irecê", "2914604", "Chapada Diamantina", "IRE", -11.3033, -41.8535, 0.05),
    _Municipality("Luís Eduardo Magalhães", "2919553", "Oeste", "LEM", -12.0956, -45.7866, 0.05),
    _Municipality("Eunápolis", "2910727", "Extremo Sul", "EUN", -16.3715, -39.5821, 0.07),
    _Municipality("Serrinha", "2930501", "Nordeste Baiano", "SRH", -11.6584, -39.0100, 0.05),
)

OPERATORS = (  # fictitious licensees
    ("ALFA MOVEL TELECOMUNICACOES S.A.", 0.4),
    ("BETA CELULAR S.A.", 0.35),
    ("GAMA COMUNICACOES LTDA", 0.25),
)
LEGACY_TECHNOLOGIES = (  # technology, share of legacy stations carrying it, first-licence year range
    ("GSM", 0.7, (2004, 2012)),
    ("WCDMA", 0.6, (2008, 2016)),
    ("LTE", 0.85, (2013, 2021)),
)


def generate_sample_business(
    out_dir: Path,
    *,
    n_materials: int = 300,
    n_sites: int = 12,
    start: date,
    end: date,
    seed: int = 42,
    weather_daily: pd.DataFrame | None = None,
    holidays: set[date] | None = None,
) -> dict[str, Path]:
    """Write the synthetic exports for [start, end] into a landing folder and return their paths:
    ERP files in `out_dir/erp/`, the ANATEL stations export in `out_dir/anatel/`.

    `weather_daily` (columns date, precipitation_mm) drives the rain effect; without it a
    Salvador-like rainfall series is drawn from the seed. `holidays` lowers demand on those days.
    With temp_max in `weather_daily` too, the towers' installed base and work orders are generated
    (`maintenance_generator`) and the issues of the parts the orders use are the orders' parts.
    """
    if end <= start:
        raise ValueError(f"end ({end}) must be after start ({start})")
    if n_materials < 1 or n_sites < 2:
        raise ValueError("need at least 1 material and 2 sites (a warehouse and a tower)")
    days = pd.date_range(start, end, freq="D")
    suppliers = _suppliers(_rng(seed, 1))
    materials, categories, classes = _materials(n_materials, _rng(seed, 2))
    sites = _sites(n_sites, _rng(seed, 3))
    maintenance = _maintenance(materials, sites, weather_daily, start, end, seed)
    maintenance_issues = _maintenance_issues(maintenance, materials, sites, days)
    stations = _anatel_stations(start, end, _rng(seed, 4))
    nr_index = _nr_rollout_index(stations, days)
    rain = _precipitation(days, weather_daily, _rng(seed, 5))
    holiday_days = {pd.Timestamp(h).date() for h in holidays or ()}
    drivers = _Drivers.of(days, rain, nr_index, holiday_days)
    totals = np.concatenate(
        [chunk.sum(axis=1) for chunk in _demand_chunks(categories, classes, drivers, _rng(seed, 6))]
    )
    for material, issues in maintenance_issues.items():
        totals[material] = issues[2].sum()
    materials = _with_criticality(materials, totals)
    ledger = _simulate(materials, suppliers, categories, classes, drivers, sites, days, seed, maintenance_issues)
    stocked = _stocking(n_materials, sites, _rng(seed, 7)).stocked

    erp_dir, anatel_dir = out_dir / "erp", out_dir / "anatel"
    erp_dir.mkdir(parents=True, exist_ok=True)
    # Marked before any file is written, so an import that starts meanwhile records them as the sample's.
    (out_dir / SYNTHETIC_MARKER).write_text("SYNTHETIC sample, being generated.\n", encoding="utf-8")
    anatel_dir.mkdir(exist_ok=True)
    successors = maintenance.supersessions if maintenance is not None else pd.DataFrame(columns=["material_id"])
    supersedes = successors.set_index("material_id")["supersedes"] if len(successors) else pd.Series(dtype=object)
    written = {
        "materials": _write_csv(
            materials.assign(supersedes=materials["material_id"].map(supersedes)), erp_dir / "materials.csv"
        ),
        "sites": _write_csv(sites, erp_dir / "sites.csv"),
        "suppliers": _write_csv(suppliers, erp_dir / "suppliers.csv"),
        "movements": _write_movements(erp_dir / "movements.csv", materials, sites, ledger, days),
        "stock_on_hand": _write_csv(_stock(materials, sites, stocked, ledger, end), erp_dir / "stock_on_hand.csv"),
        "open_orders": _write_csv(_open_orders(materials, ledger, days), erp_dir / "open_orders.csv"),
        "purchase_order_history": _write_purchase_orders(
            erp_dir / "purchase_order_history.csv", materials, sites, ledger, days
        ),
        "anatel_stations": _write_csv(stations, anatel_dir / "estacoes_licenciadas.csv", sep=";"),
    }
    if maintenance is not None:
        from nova_assets.lib.sample.maintenance_generator import write_maintenance_exports

        written.update(write_maintenance_exports(maintenance, erp_dir))
    note = out_dir / SYNTHETIC_MARKER
    note.write_text(
        _note(seed, start, end, n_materials, sites, classes, weather_daily is not None, len(holiday_days))
        + _maintenance_note(maintenance, maintenance_issues),
        encoding="utf-8",
    )
    written["synthetic_note"] = note
    return written


def _maintenance(
    materials: pd.DataFrame,
    sites: pd.DataFrame,
    weather_daily: pd.DataFrame | None,
    start: date,
    end: date,
    seed: int,
) -> MaintenanceSample | None:
    """The towers' installed base and work orders, driven by the recorded heat and rain (None without
    a weather table with temp_max and precipitation_mm: the hazards need both)."""
    if weather_daily is None or not {"temp_max", "precipitation_mm"} <= set(weather_daily.columns):
        return None
    from nova_assets.lib.sample.maintenance_generator import generate_maintenance  # it reads CATEGORIES here

    return generate_maintenance(materials, sites, weather_daily, start=start, end=end, seed=seed)


def _maintenance_issues(
    maintenance: MaintenanceSample | None, materials: pd.DataFrame, sites: pd.DataFrame, days: pd.DatetimeIndex
) -> dict[int, tuple[np.ndarray, ...]]:
    """material index -> (site index of the order's tower, day index, quantity) of the parts completed
    work orders issued in the period (`_simulate` books them where the ledger can issue them)."""
    if maintenance is None:
        return {}
    from nova_assets.lib.maintenance.parts_demand import order_parts

    issued = order_parts(maintenance.work_orders, maintenance.work_order_parts)
    day = (pd.to_datetime(issued["movement_date"]) - days[0]).dt.days.to_numpy()
    issued = issued[(day >= 0) & (day < len(days))].assign(day=day[(day >= 0) & (day < len(days))])
    material_idx = pd.Series(np.arange(len(materials)), index=materials["material_id"])
    site_idx = pd.Series(np.arange(len(sites)), index=sites["site_id"])
    out = {}
    for material, lines in issued.groupby("material_id"):
        out[int(material_idx[material])] = (
            site_idx[lines["site_id"]].to_numpy(dtype=np.int64),
            lines["day"].to_numpy(dtype=np.int64),
            np.ceil(lines["quantity"].to_numpy()).astype(np.int64),
        )
    return out


def _rng(seed: int, part: int) -> np.random.Generator:
    """One independent stream per part, so changing one part never shifts the others."""
    return np.random.default_rng([seed, part])


def _suppliers(rng: np.random.Generator) -> pd.DataFrame:
    means = np.array([s.lead_time_mean for s in SUPPLIERS])
    return pd.DataFrame(
        {
            "supplier_id": [s.supplier_id for s in SUPPLIERS],
            "supplier_name": [s.name for s in SUPPLIERS],
            "lead_time_mean_days": means.astype(float),
            "lead_time_std_days": np.round(means * rng.uniform(0.15, 0.35, len(SUPPLIERS)), 1),
        }
    )


def _materials(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, list[_Category], np.ndarray]:
    """Catalogue; cheap consumables lean to smooth/erratic demand, costly parts to intermittent/lumpy."""
    shares = np.array([c.share for c in CATEGORIES])
    cat_idx = rng.choice(len(CATEGORIES), size=n, p=shares / shares.sum())
    categories = [CATEGORIES[i] for i in cat_idx]
    medians = np.array([c.cost_median for c in categories])
    cost = medians * np.exp(np.array([c.cost_sigma for c in categories]) * rng.standard_normal(n))
    descriptions = [
        f"{c.items[rng.integers(len(c.items))]} (mod. NC-{c.code}-{rng.integers(1000, 9999)})" for c in categories
    ]
    counts = {k: round(v * n) for k, v in CLASS_SHARES.items()}
    counts["intermittent"] += n - sum(counts.values())
    fast = counts["smooth"] + counts["erratic"]
    by_cost = np.argsort(np.log(cost) + rng.normal(0, 1.5, n), kind="stable")
    fast_labels = rng.permutation(["smooth"] * counts["smooth"] + ["erratic"] * counts["erratic"])
    slow_labels = rng.permutation(["intermittent"] * counts["intermittent"] + ["lumpy"] * counts["lumpy"])
    classes = np.empty(n, dtype=object)
    classes[by_cost[:fast]] = fast_labels
    classes[by_cost[fast:]] = slow_labels
    supplier_ids = [c.suppliers[rng.integers(len(c.suppliers))] for c in categories]
    frame = pd.DataFrame(
        {
            "material_id": [f"MAT-{i:05d}" for i in range(1, n + 1)],
            "description": descriptions,
            "category": [c.name for c in categories],
            "unit": [c.unit for c in categories],
            "unit_cost": np.round(cost, 2),
            "supplier_id": supplier_ids,
        }
    )
    return frame, categories, classes


def _with_criticality(materials: pd.DataFrame, totals: np.ndarray) -> pd.DataFrame:
    """Classic ABC on consumption value (`totals`: units issued per material): A = top 80 % of value,
    B = next 15 %, C = the rest."""
    value = totals * materials["unit_cost"].to_numpy()
    order = np.argsort(-value, kind="stable")
    share = np.cumsum(value[order]) / max(value.sum(), 1e-9)
    labels = np.where(share <= 0.8, "A", np.where(share <= 0.95, "B", "C"))
    labels[0] = "A"
    criticality = np.empty(len(materials), dtype=object)
    criticality[order] = labels
    frame = materials.assign(criticality=criticality)
    columns = ["material_id", "description", "category", "unit", "unit_cost", "criticality", "supplier_id"]
    return frame[columns]


def _sites(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """1-2 warehouses in Salvador, then towers spread over Bahia's regions."""
    salvador = MUNICIPALITIES[0]
    n_warehouses = 2 if n >= 6 else 1
    names = ("Almoxarifado Central Salvador", "Almoxarifado Salvador Norte")[:n_warehouses]
    rows = [
        {"site_id": f"WH-SSA-{i:02d}", "site_name": name, "site_type": "warehouse", "muni": salvador}
        for i, name in enumerate(names, 1)
    ]
    seen: dict[str, int] = {}
    for k in range(n - n_warehouses):
        muni = MUNICIPALITIES[k % len(MUNICIPALITIES)]
        seen[muni.code] = number = seen.get(muni.code, 0) + 1
        rows.append(
            {
                "site_id": f"TWR-{muni.code}-{number:02d}",
                "site_name": f"ERB {muni.name} {number:02d}",
                "site_type": "tower",
                "muni": muni,
            }
        )
    towers = [r for r in rows if r["site_type"] == "tower"]
    urban = np.array([r["muni"].region == salvador.region for r in towers])
    tower_penalty = np.round(np.where(urban, 4000, 1500) * rng.lognormal(0, 0.35, len(towers)), -1)
    warehouse_penalty = round(3 * float(tower_penalty.mean()), -1)  # a warehouse stock-out stalls many towers
    jitter = rng.uniform(-0.04, 0.04, size=(n, 2))
    penalties = [warehouse_penalty] * n_warehouses + list(tower_penalty)
    return pd.DataFrame(
        {
            "site_id": [r["site_id"] for r in rows],
            "site_name": [r["site_name"] for r in rows],
            "site_type": [r["site_type"] for r in rows],
            "region": [r["muni"].region for r in rows],
            "state": "BA",
            "municipality": [r["muni"].name for r in rows],
            "ibge_code": [r["muni"].ibge_code for r in rows],
            "latitude": np.round([r["muni"].latitude for r in rows] + jitter[:, 0], 6),
            "longitude": np.round([r["muni"].longitude for r in rows] + jitter[:, 1], 6),
            "sla_penalty_brl_day": np.asarray(penalties, dtype=float),
        }
    )


def _random_dates(rng: np.random.Generator, lo: date, hi: date, n: int, *, accelerating: bool = False) -> np.ndarray:
    """n dates in [lo, hi]; `accelerating` puts more of them late (a roll-out that speeds up)."""
    u = rng.uniform(size=n)
    if accelerating:
        u = np.sqrt(u)
    span = max((hi - lo).days, 0)
    return np.datetime64(lo) + np.floor(u * span).astype("timedelta64[D]")


def _anatel_stations(start: date, end: date, rng: np.random.Generator) -> pd.DataFrame:
    """Spectrum-E style export: one row per emission, legacy GSM/WCDMA/LTE plus a growing NR roll-out."""
    span = (end - start).days
    nr_launch = min(NR_LAUNCH, start + timedelta(days=span // 3))
    rollout_years = max((end - nr_launch).days / 365.25, 0.1)
    rows: list[pd.DataFrame] = []
    next_station = 600_000_000
    operator_names = [name for name, _ in OPERATORS]
    operator_share = np.array([share for _, share in OPERATORS])
    for muni in MUNICIPALITIES:
        legacy = max(round(500 * muni.network_weight), 3)
        nr_total = max(round(90 * muni.network_weight * rollout_years), 1)
        delay = 0 if muni.ibge_code == MUNICIPALITIES[0].ibge_code else int(rng.integers(60, 420))
        muni_launch = min(nr_launch + timedelta(days=delay), end)  # Salvador first, the interior later
        station_ids = next_station + np.cumsum(rng.integers(1, 4000, legacy + nr_total))
        next_station = int(station_ids[-1])
        operators = rng.choice(operator_names, size=legacy + nr_total, p=operator_share)
        lat = muni.latitude + rng.uniform(-0.08, 0.08, legacy + nr_total)
        lon = muni.longitude + rng.uniform(-0.08, 0.08, legacy + nr_total)
        first = np.full(legacy + nr_total, np.datetime64("NaT"), dtype="datetime64[D]")
        per_station: list[tuple[np.ndarray, str, np.ndarray]] = []
        for tech, share, (y0, y1) in LEGACY_TECHNOLOGIES:
            carries = np.flatnonzero(rng.uniform(size=legacy) < share)
            licensed = _random_dates(rng, min(date(y0, 1, 1), end), min(date(y1, 12, 31), end), carries.size)
            earlier = first[carries]
            first[carries] = np.where(np.isnat(earlier), licensed, np.minimum(earlier, licensed))
            per_station.append((carries, tech, licensed))
        orphans = np.flatnonzero(np.isnat(first[:legacy]))
        lte_dates = _random_dates(rng, min(date(2013, 1, 1), end), min(date(2021, 12, 31), end), orphans.size)
        first[orphans] = lte_dates
        per_station.append((orphans, "LTE", lte_dates))
        nr_idx = np.arange(legacy, legacy + nr_total)
        nr_dates = _random_dates(rng, muni_launch, end, nr_total, accelerating=True)
        first[nr_idx] = nr_dates
        per_station.append((nr_idx, "NR", nr_dates))
        for idx, tech, licensed in per_station:
            emissions = rng.integers(1, 4, idx.size)  # several emissions per station and technology
            rep = np.repeat(idx, emissions)
            relicensed = np.repeat(licensed, emissions)
            renewals = rng.uniform(size=rep.size) < 0.15
            later = relicensed + rng.integers(30, 900, rep.size).astype("timedelta64[D]")
            relicensed = np.where(renewals & (later <= np.datetime64(end)), later, relicensed)
            rows.append(
                pd.DataFrame(
                    {
                        "NomeEntidade": operators[rep],
                        "NumEstacao": station_ids[rep],
                        "SiglaUf": "BA",
                        "CodMunicipio": muni.ibge_code,
                        "Tecnologia": tech,
                        "DataLicenciamento": relicensed.astype(str),
                        "DataPrimeiroLicenciamento": first[rep].astype(str),
                        "Latitude": np.round(lat[rep], 6),
                        "Longitude": np.round(lon[rep], 6),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True).sort_values(
        ["CodMunicipio", "NumEstacao", "Tecnologia", "DataLicenciamento"], kind="stable", ignore_index=True
    )


def _nr_rollout_index(stations: pd.DataFrame, days: pd.DatetimeIndex) -> np.ndarray:
    """Share (0..1) of the final NR station count already licensed on each day."""
    nr = stations[stations["Tecnologia"] == "NR"].drop_duplicates("NumEstacao")
    first = pd.to_datetime(nr["DataPrimeiroLicenciamento"]).to_numpy()
    counts = np.searchsorted(np.sort(first), days.to_numpy(), side="right")
    return counts / max(counts[-1], 1)


def _precipitation(days: pd.DatetimeIndex, weather: pd.DataFrame | None, rng: np.random.Generator) -> np.ndarray:
    """Daily rain in mm: from `weather` when given (missing days = dry), else a Salvador-like draw."""
    if weather is not None:
        dated = weather.assign(date=pd.to_datetime(weather["date"]).dt.normalize())
        daily = dated.groupby("date")["precipitation_mm"].mean()
        return daily.reindex(days).fillna(0.0).to_numpy(dtype=float)
    monthly = np.array(SALVADOR_MONTHLY_RAIN_MM, dtype=float)[days.month - 1]
    wet_prob = np.clip(monthly / 500, 0.2, 0.65)
    wet = rng.uniform(size=len(days)) < wet_prob
    amount = rng.gamma(0.8, monthly / days.days_in_month / wet_prob / 0.8)
    return np.where(wet, np.round(amount, 1), 0.0)


@dataclass(frozen=True)
class _Drivers:
    """What every material's daily demand shares: weekday, holidays, rain, season day, the 5G trend."""

    weekday: np.ndarray
    holiday: np.ndarray
    rain_lift: np.ndarray
    doy: np.ndarray
    nr_index: np.ndarray

    @classmethod
    def of(cls, days: pd.DatetimeIndex, rain: np.ndarray, nr_index: np.ndarray, holidays: set[date]) -> _Drivers:
        heavy = rain > HEAVY_RAIN_MM
        day_after_storm = np.concatenate(([False], heavy[:-1]))  # failures are also found the next day
        return cls(
            weekday=WEEKDAY_FACTOR[days.weekday],
            holiday=np.where([d in holidays for d in days.date], HOLIDAY_FACTOR, 1.0),
            rain_lift=0.5 * heavy + 0.2 * ((rain > MODERATE_RAIN_MM) & ~heavy) + 0.25 * day_after_storm,
            doy=days.dayofyear.to_numpy(),
            nr_index=nr_index,
        )


def _demand_chunks(
    categories: Sequence[_Category], classes: np.ndarray, drivers: _Drivers, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """Daily issues per material (CHUNK_MATERIALS x n_days at a time): event occurrence times event size.

    The materials are drawn one after the other from `rng`, so the chunks are the rows of one
    (n_materials x n_days) draw, whatever the chunk size."""
    n_days = len(drivers.doy)
    for first in range(0, len(categories), CHUNK_MATERIALS):
        rows = range(first, min(first + CHUNK_MATERIALS, len(categories)))
        out = np.zeros((len(rows), n_days), dtype=np.int64)
        for row, i in enumerate(rows):
            cat, cls = categories[i], classes[i]
            season = 1 + cat.season_amplitude * np.cos(2 * np.pi * (drivers.doy - cat.season_peak_doy) / 365.25)
            trend = 1 + NR_DEMAND_LIFT * cat.nr * drivers.nr_index
            factor = drivers.weekday * drivers.holiday * season * (1 + cat.rain * drivers.rain_lift) * trend
            rate = rng.uniform(*RATE_BY_CLASS[cls]) * factor
            occurs = rng.uniform(size=n_days) < 1 - np.exp(-rate)
            size_driver = np.sqrt(factor)
            if cls == "smooth":
                size = 1 + rng.poisson(rng.uniform(2, 12) * size_driver)
            elif cls == "intermittent":
                size = 1 + rng.poisson(rng.uniform(0.2, 2.0), n_days)
            else:  # erratic and lumpy: over-dispersed sizes (negative binomial)
                mean = rng.uniform(2, 10) if cls == "erratic" else rng.uniform(3, 15)
                shape = rng.uniform(0.4, 0.8)
                size = 1 + rng.negative_binomial(shape, shape / (shape + mean * size_driver))
            out[row] = np.where(occurs, size * cat.size_scale, 0)
        yield out


@dataclass(frozen=True)
class _Stocking:
    """Which sites stock each material (every warehouse, a tower with probability 0.6) and their weights."""

    stocked: np.ndarray  # (n_materials, n_sites) bool
    base: np.ndarray  # per site


def _stocking(n_materials: int, sites: pd.DataFrame, rng: np.random.Generator) -> _Stocking:
    is_wh = (sites["site_type"] == "warehouse").to_numpy()
    base = np.where(is_wh, 4.0, 1.0) * rng.lognormal(0, 0.3, len(sites))
    stocked = is_wh[None, :] | (rng.uniform(size=(n_materials, len(sites))) < 0.6)
    return _Stocking(stocked, base)


def _allocate_chunk(
    demand: np.ndarray, first: int, classes: np.ndarray, stocking: _Stocking, rng: np.random.Generator
) -> np.ndarray:
    """The issues per material x site x day of materials first.. (the rows of `demand`).

    Steady demand is split across sites; an intermittent or lumpy event is one job at one site.
    """
    n_sites = stocking.stocked.shape[1]
    out = np.zeros((demand.shape[0], n_sites, demand.shape[1]), dtype=np.int64)
    for row in range(demand.shape[0]):
        i = first + row
        weights = stocking.base * stocking.stocked[i] * rng.lognormal(0, 0.3, n_sites)
        p = weights / weights.sum()
        day_idx = np.flatnonzero(demand[row])
        if classes[i] in ("smooth", "erratic"):
            out[row][:, day_idx] = rng.multinomial(demand[row, day_idx], p).T
        else:
            out[row, rng.choice(n_sites, size=day_idx.size, p=p), day_idx] = demand[row, day_idx]
    return out


@dataclass(frozen=True)
class _Supply:
    """Per material and day: the lead time an order placed that day gets, and whether ordering is possible."""

    lead: np.ndarray  # (n_materials, n_days) int32
    may_order: np.ndarray  # (n_materials, n_days) bool


def _supply(materials: pd.DataFrame, suppliers: pd.DataFrame, n_days: int, rng: np.random.Generator) -> _Supply:
    """An order arrives 0..MAX_EARLY_DAYS days early with the supplier's on-time share, else late by an
    exponential delay of the supplier's mean (every site's order of a material placed the same day shares
    one shipment). A few "stressed" materials see their supply break down near the end (orders frozen, or
    the supplier much later), so the final stock is low and alerts appear.

    Drawn in row chunks from one stream, in the order one (n_materials x n_days) draw would take."""
    n_mat = len(materials)
    profile = {supplier.supplier_id: supplier for supplier in SUPPLIERS}
    on_time = np.array([profile[s].on_time_share for s in materials["supplier_id"]])
    late_mean = np.array([profile[s].late_days_mean for s in materials["supplier_id"]])
    sup = suppliers.set_index("supplier_id").loc[materials["supplier_id"]]
    quoted = np.rint(sup["lead_time_mean_days"].to_numpy()).astype(np.int64)
    chunks = range(0, n_mat, CHUNK_MATERIALS)
    late = np.concatenate(
        [
            rng.uniform(size=(min(CHUNK_MATERIALS, n_mat - c), n_days)) >= on_time[c : c + CHUNK_MATERIALS, None]
            for c in chunks
        ]
    )
    delayed_by = np.concatenate(
        [
            np.maximum(
                np.ceil(
                    rng.exponential(late_mean[c : c + CHUNK_MATERIALS, None], (min(CHUNK_MATERIALS, n_mat - c), n_days))
                ),
                1,
            ).astype(np.int32)
            for c in chunks
        ]
    )
    early = rng.integers(0, MAX_EARLY_DAYS + 1, (n_mat, n_days)).astype(np.int32)  # one draw: integers buffer
    lead = np.maximum(quoted[:, None] + np.where(late, delayed_by, -early), 1).astype(np.int32)
    del late, delayed_by, early
    stressed = rng.permutation(n_mat)[: max(1, round(STRESSED_SHARE * n_mat))]
    frozen, delayed = stressed[::2], stressed[1::2]
    window = slice(n_days - STRESS_WINDOW_DAYS, n_days)
    lead[delayed, window] += rng.integers(30, 61, (delayed.size, 1)).astype(np.int32)
    may_order = np.ones((n_mat, n_days), dtype=bool)
    may_order[frozen, window] = False
    return _Supply(lead, may_order)


@dataclass
class _Ledger:
    """What the simulation leaves: purchase orders, end stock, and the issue/receipt rows by day."""

    orders: pd.DataFrame  # every PO: po_number, material_idx, site_idx, day, promised_day, arrival_day, quantity
    on_hand: np.ndarray  # per stocked (material, site) pair, in np.nonzero(stocked) order
    issues: list[tuple[np.ndarray, ...]] = field(default_factory=list)  # per chunk: (day, material, site, qty)
    emergency: list[tuple[np.ndarray, ...]] = field(default_factory=list)  # receipts without a PO, same layout


def _simulate_chunk(
    site_demand: np.ndarray,
    first: int,
    materials: pd.DataFrame,
    suppliers: pd.DataFrame,
    stocking: _Stocking,
    supply: _Supply,
    days: pd.DatetimeIndex,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Weekly order-up-to replenishment per (material, site) pair of materials first.., so receipts track
    demand. A purchase order is promised for its order day plus the supplier's quoted lead time. A
    stock-out is covered by an emergency receipt the same day, so stock never goes negative and the
    ledger balances. Pairs are independent: simulating them a chunk at a time changes nothing.

    Returns the orders (material/site indices global), the end stock per pair and the emergency receipts."""
    n_days = len(days)
    rows = site_demand.shape[0]
    local_mat, site_idx = np.nonzero(stocking.stocked[first : first + rows])
    mat_idx = local_mat + first
    demand = site_demand[local_mat, site_idx]
    sup = suppliers.set_index("supplier_id").loc[materials["supplier_id"]]
    lt_mean = sup["lead_time_mean_days"].to_numpy()
    quoted = np.rint(lt_mean).astype(np.int64)
    mu = demand.mean(axis=1)
    sigma = demand.std(axis=1)
    horizon = 7 + lt_mean[mat_idx]
    z = materials["criticality"].map(SERVICE_Z).to_numpy()[mat_idx]
    order_up_to = np.ceil(mu * horizon + z * sigma * np.sqrt(horizon)).astype(np.int64) + 1
    min_order = np.maximum(np.rint(mu * 7), 1).astype(np.int64)

    on_hand = order_up_to.copy()
    on_order = np.zeros_like(on_hand)
    arrivals = np.zeros((len(mat_idx), n_days + int(supply.lead.max()) + 1), dtype=np.int64)
    emergency = np.zeros_like(demand)
    orders: list[pd.DataFrame] = []
    reviews = days.weekday == REVIEW_WEEKDAY
    for t in range(n_days):
        arrived = arrivals[:, t]
        on_hand += arrived
        on_order -= arrived
        shortfall = np.maximum(demand[:, t] - on_hand, 0)
        on_hand += shortfall - demand[:, t]
        emergency[:, t] = shortfall
        if not reviews[t]:
            continue
        gap = order_up_to - on_hand - on_order
        place = np.flatnonzero((gap >= min_order) & supply.may_order[mat_idx, t])
        if place.size == 0:
            continue
        lt = supply.lead[mat_idx[place], t]
        arrivals[place, t + lt] += gap[place]
        on_order[place] += gap[place]
        orders.append(
            pd.DataFrame(
                {
                    "material_idx": mat_idx[place].astype(np.int32),
                    "site_idx": site_idx[place].astype(np.int16),
                    "day": np.full(place.size, t, dtype=np.int16),
                    "promised_day": (t + quoted[mat_idx[place]]).astype(np.int32),
                    "arrival_day": (t + lt).astype(np.int32),
                    "quantity": gap[place],
                }
            )
        )
    columns = ("material_idx", "site_idx", "day", "promised_day", "arrival_day", "quantity")
    frame = pd.concat(orders or [pd.DataFrame({c: pd.Series(dtype=np.int64) for c in columns})], ignore_index=True)
    full_emergency = np.zeros_like(site_demand)
    full_emergency[local_mat, site_idx] = emergency
    return frame, on_hand, full_emergency


def _simulate(
    materials: pd.DataFrame,
    suppliers: pd.DataFrame,
    categories: Sequence[_Category],
    classes: np.ndarray,
    drivers: _Drivers,
    sites: pd.DataFrame,
    days: pd.DatetimeIndex,
    seed: int,
    maintenance_issues: Mapping[int, tuple[np.ndarray, ...]],
) -> _Ledger:
    """Demand, allocation to sites and replenishment, a chunk of materials at a time (memory stays flat).

    The demand stream is replayed from its seed (the first pass only summed it for the ABC classes).
    A material in `maintenance_issues` (material -> site, day, quantity) is issued by the work orders
    instead of its demand-model draw."""
    allocation_rng = _rng(seed, 7)
    stocking = _stocking(len(materials), sites, allocation_rng)
    warehouse = int(np.flatnonzero((sites["site_type"] == "warehouse").to_numpy())[0])
    supply = _supply(materials, suppliers, len(days), _rng(seed, 8))
    orders, on_hand = [], []
    ledger = _Ledger(pd.DataFrame(), np.empty(0))
    for chunk, demand in enumerate(_demand_chunks(categories, classes, drivers, _rng(seed, 6))):
        first = chunk * CHUNK_MATERIALS
        site_demand = _allocate_chunk(demand, first, classes, stocking, allocation_rng)
        for material, (site, day, quantity) in maintenance_issues.items():
            if first <= material < first + len(demand):
                # a tower that does not stock the part gets it from the first warehouse (which stocks all)
                booked = np.where(stocking.stocked[material, site], site, warehouse)
                site_demand[material - first] = 0
                np.add.at(site_demand[material - first], (booked, day), quantity)
        chunk_orders, chunk_on_hand, emergency = _simulate_chunk(
            site_demand, first, materials, suppliers, stocking, supply, days
        )
        orders.append(chunk_orders)
        on_hand.append(chunk_on_hand)
        ledger.issues.append(_sparse(site_demand, first))
        ledger.emergency.append(_sparse(emergency, first))
    order_frame = pd.concat(orders, ignore_index=True)
    # numbered in placement order (day, material, site): SAP-like PO numbers (45 + po_number)
    order_frame = order_frame.sort_values(["day", "material_idx", "site_idx"], kind="stable", ignore_index=True)
    order_frame.insert(0, "po_number", np.arange(1, len(order_frame) + 1, dtype=np.int64))
    ledger.orders = order_frame
    ledger.on_hand = np.concatenate(on_hand)
    return ledger


def _sparse(quantities: np.ndarray, first: int) -> tuple[np.ndarray, ...]:
    """(day, material, site, quantity) of the non-zero cells of a (materials, sites, days) block, by day."""
    t, m, s = np.nonzero(quantities.transpose(2, 0, 1))
    return t.astype(np.int16), (m + first).astype(np.int32), s.astype(np.int16), quantities[m, s, t]


def _write_movements(
    path: Path, materials: pd.DataFrame, sites: pd.DataFrame, ledger: _Ledger, days: pd.DatetimeIndex
) -> Path:
    """Issues, receipts of purchase orders (with their po_id) and emergency receipts (without), each a
    numbered material document, sorted by date, material, site, type and purchase order; written a block
    of days at a time."""
    material_ids = materials["material_id"].to_numpy()
    site_ids = sites["site_id"].to_numpy()
    site_rank = np.argsort(np.argsort(site_ids, kind="stable"), kind="stable")  # sites sort by their code
    day_str = days.strftime("%Y-%m-%d").to_numpy()
    received = ledger.orders[ledger.orders["arrival_day"] < len(days)].sort_values("arrival_day", kind="stable")
    po_rows = (
        received["arrival_day"].to_numpy(),
        received["material_idx"].to_numpy(),
        received["site_idx"].to_numpy(),
        received["quantity"].to_numpy(),
        received["po_number"].to_numpy(),
    )
    # issue < receipt of a PO (by PO number) < receipt without a PO (its po_id is empty)
    sources = [(chunk, 0) for chunk in ledger.issues] + [(po_rows, 1)] + [(chunk, 2) for chunk in ledger.emergency]
    numbered = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        for block_start in range(0, len(days), WRITE_BLOCK_DAYS):
            columns: list[list[np.ndarray]] = [[] for _ in range(6)]
            for rows, kind in sources:
                lo, hi = np.searchsorted(rows[0], [block_start, block_start + WRITE_BLOCK_DAYS])
                for column, values in zip(columns[:4], rows[:4], strict=True):
                    column.append(values[lo:hi].astype(np.int64))
                columns[4].append(np.full(hi - lo, kind, dtype=np.int64))
                columns[5].append(rows[4][lo:hi] if kind == 1 else np.zeros(hi - lo, dtype=np.int64))
            day, mat, site, quantity, kind, po = (np.concatenate(c) for c in columns)
            order = np.lexsort((po, kind, site_rank[site], mat, day))
            day, mat, site, quantity, kind, po = (a[order] for a in (day, mat, site, quantity, kind, po))
            frame = pd.DataFrame(
                {
                    "movement_id": [
                        f"{MOVEMENT_NUMBER_PREFIX}{i:08d}" for i in range(numbered + 1, numbered + len(day) + 1)
                    ],
                    "movement_date": day_str[day],
                    "material_id": material_ids[mat],
                    "site_id": site_ids[site],
                    "movement_type": np.where(kind == 0, "issue", "receipt"),
                    "quantity": quantity,
                    "po_id": pd.Series([f"{PO_NUMBER_PREFIX}{n:08d}" for n in po], dtype=object).where(kind == 1),
                }
            )
            frame.to_csv(out, index=False, header=block_start == 0, lineterminator="\n")
            numbered += len(day)
    return path


def _stock(
    materials: pd.DataFrame, sites: pd.DataFrame, stocking: np.ndarray, ledger: _Ledger, end: date
) -> pd.DataFrame:
    m, s = np.nonzero(stocking)
    return pd.DataFrame(
        {
            "snapshot_date": end.isoformat(),
            "material_id": materials["material_id"].to_numpy()[m],
            "site_id": sites["site_id"].to_numpy()[s],
            "on_hand": ledger.on_hand,
        }
    )


def _open_orders(materials: pd.DataFrame, ledger: _Ledger, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Purchase orders not yet received at the end date; expected_date is the supplier's current
    confirmation (after the promised date when the order is late)."""
    pending = ledger.orders[ledger.orders["arrival_day"] >= len(days)]
    idx = pending["material_idx"].to_numpy()
    return pd.DataFrame(
        {
            "po_id": [f"{PO_NUMBER_PREFIX}{n:08d}" for n in pending["po_number"]],
            "material_id": materials["material_id"].to_numpy()[idx],
            "supplier_id": materials["supplier_id"].to_numpy()[idx],
            "quantity": pending["quantity"].to_numpy(),
            "order_date": days[pending["day"].to_numpy()].strftime("%Y-%m-%d"),
            "expected_date": (days[0] + pd.to_timedelta(pending["arrival_day"].to_numpy(), unit="D")).strftime(
                "%Y-%m-%d"
            ),
        }
    )


def _write_purchase_orders(
    path: Path, materials: pd.DataFrame, sites: pd.DataFrame, ledger: _Ledger, days: pd.DatetimeIndex
) -> Path:
    """Every purchase order placed, received or still open: the history behind supplier performance."""
    with path.open("w", encoding="utf-8", newline="") as out:
        for first in range(0, max(len(ledger.orders), 1), WRITE_BLOCK_ROWS):
            orders = ledger.orders.iloc[first : first + WRITE_BLOCK_ROWS]
            idx = orders["material_idx"].to_numpy()
            pd.DataFrame(
                {
                    "po_id": [f"{PO_NUMBER_PREFIX}{n:08d}" for n in orders["po_number"]],
                    "material_id": materials["material_id"].to_numpy()[idx],
                    "supplier_id": materials["supplier_id"].to_numpy()[idx],
                    "site_id": sites["site_id"].to_numpy()[orders["site_idx"].to_numpy()],
                    "quantity": orders["quantity"].to_numpy(),
                    "order_date": days[orders["day"].to_numpy()].strftime("%Y-%m-%d"),
                    "promised_date": (days[0] + pd.to_timedelta(orders["promised_day"].to_numpy(), unit="D")).strftime(
                        "%Y-%m-%d"
                    ),
                }
            ).to_csv(out, index=False, header=first == 0, lineterminator="\n")
    return path


def _reliability() -> str:
    return ", ".join(f"{s.supplier_id} {s.on_time_share:.0%}" for s in SUPPLIERS)


def _write_csv(frame: pd.DataFrame, path: Path, *, sep: str = ",") -> Path:
    frame.to_csv(path, index=False, sep=sep, encoding="utf-8", lineterminator="\n")
    return path


def _note(
    seed: int,
    start: date,
    end: date,
    n_materials: int,
    sites: pd.DataFrame,
    classes: np.ndarray,
    real_weather: bool,
    n_holidays: int,
) -> str:
    mix = ", ".join(f"{k} {int((classes == k).sum())}" for k in CLASS_SHARES)
    n_warehouses = int((sites["site_type"] == "warehouse").sum())
    return f"""SYNTHETIC DATA - NOT A REAL BUSINESS
=====================================
Every file in this folder was generated by nova_assets.lib.sample.erp_generator
(seed {seed}, period {start} .. {end}). No record describes a real company, supplier,
operator, site, price or stock. Municipality names, IBGE codes and approximate coordinates
are real; everything attached to them is invented.

Contents
- materials.csv: {n_materials} spare parts in {len(CATEGORIES)} categories; unit cost in BRL drawn
  log-normal per category; criticality = ABC on consumption value (80/15/5 %); one supplier each.
- suppliers.csv: {len(SUPPLIERS)} fictitious suppliers, quoted lead time 5-45 days and std.
- sites.csv: {len(sites)} sites: {n_warehouses} warehouse(s) in Salvador, the rest towers across
  Bahia regions; SLA penalty per day in BRL (a warehouse: 3x the mean tower).
- movements.csv: daily 'issue' and 'receipt' quantities per material and site, each with a
  document number (movement_id); a receipt of a purchase order carries its po_id, an emergency
  receipt none.
- stock_on_hand.csv: on-hand per material and site at {end}.
- open_orders.csv: purchase orders not yet received at {end} (expected_date: the supplier's current
  confirmation).
- purchase_order_history.csv: every purchase order placed (received or open) with its promised date
  (order date + the supplier's quoted lead time).
- anatel/estacoes_licenciadas.csv: a Spectrum-E style licensed-stations export (';'-separated,
  one row per emission, fictitious licensees) for {len(MUNICIPALITIES)} Bahia municipalities, with
  GSM/WCDMA/LTE stations and a growing NR (5G) roll-out from {NR_LAUNCH} in Salvador (moved
  into the first third of the period when the period ends too soon to show it), reaching the
  interior later.

How demand was generated
- Demand class per material (Syntetos-Boylan): {mix}.
- Daily event probability 1 - exp(-rate x drivers); drivers: weekday (weekends lower),
  public holidays (x{HOLIDAY_FACTOR}, {n_holidays} given), yearly seasonality per category,
  rain (> {HEAVY_RAIN_MM:g} mm/day raises failures that day and the next; source:
  {"the weather_daily table passed in" if real_weather else "a synthetic Salvador-like rainfall series"}),
  and a slow upward trend following the NR station count (5G-related parts most).
- Event sizes: Poisson for smooth/intermittent, negative binomial for erratic/lumpy.
- Replenishment: weekly order-up-to policy per material and site, one purchase order per material,
  site and week. Suppliers differ in reliability: an order arrives 0-{MAX_EARLY_DAYS} days early with the
  supplier's on-time share ({_reliability()}), else late by an exponential delay; a stock-out is
  covered by a same-day emergency receipt. About {STRESSED_SHARE:.0%} of the
  materials have their supply frozen or delayed in the last {STRESS_WINDOW_DAYS} days, so some
  stock ends low on purpose.
"""


def _maintenance_note(
    maintenance: MaintenanceSample | None, maintenance_issues: Mapping[int, tuple[np.ndarray, ...]]
) -> str:
    if maintenance is None:
        return (
            "\nMaintenance\n- No installed base or work orders: the weather passed in has no daily maximum\n"
            "  temperature, which the failure hazards need.\n"
        )
    from nova_assets.lib.sample.maintenance_generator import (
        EQUIPMENT_TYPES,
        PLAN_LEAD_DAYS,
        SITE_FRAILTY_SIGMA,
    )

    orders = maintenance.work_orders
    kinds = orders["kind"].value_counts()
    hazards = "\n".join(
        f"  {t.code:<10} k={t.shape:<4} eta={t.scale_years:<4} years  heat={t.heat:<5} rain={t.rain:<5} "
        f"preventive every {t.preventive_interval_days} days"
        for t in EQUIPMENT_TYPES
    )
    return f"""
Maintenance (nova_assets.lib.sample.maintenance_generator; docs/maintenance.md)
- installed_base.csv: {len(maintenance.installed_base)} units of {len(EQUIPMENT_TYPES)} equipment types on the towers
  (install date, model, status; two phase-out campaigns: shelter air conditioners -> heat exchangers,
  finished; VRLA -> LiFePO4 batteries, under way with decommissions planned after the end).
- work_orders.csv: {int(kinds.get("corrective", 0))} corrective orders (one per failure) and \
{int(kinds.get("preventive", 0))} preventive ones;
  preventive orders are created {PLAN_LEAD_DAYS} days ahead, so the open ones are the known plan.
- work_order_parts.csv: the parts each order used (or reserved, while open).
- materials.csv `supersedes`: {len(maintenance.supersessions)} parts replaced by a successor during the period.
- movements.csv: the issues of the {len(maintenance_issues)} materials the orders use ARE the completed
  orders' parts (on the completion day; at the tower when it stocks the part, else the first warehouse).
- Failures: a power-law process in each unit's age (minimal repair) with the recorded daily heat and
  rain of Salvador: lambda(a, d) = (k/eta)(a/eta)^(k-1) exp(heat*(tmax_d - 28) + rain*log(1 + mm_d) + u_site),
  tower log frailty u_site ~ N(0, {SITE_FRAILTY_SIGMA}), centred. Parameters per type:
{hazards}
"""
