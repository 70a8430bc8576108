"""Segments: towers by failure/demand behaviour, materials by demand pattern and value (ABC/XYZ).

K-means on standardised features, with the number of clusters chosen by the silhouette score
(not fixed); cluster ids are ordered by the first profile feature, so id 0 is always the lowest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from nova_assets.lib.lake import RowFilters

MAX_K = 8
SILHOUETTE_SAMPLE = 3000
ABC_CUTS = (0.8, 0.95)  # cumulative value share closing classes A and B
XYZ_CUTS = (0.5, 1.0)  # coefficient of variation of weekly demand closing classes X and Y
ADI_CUTOFF = 1.32  # Syntetos-Boylan: demand on fewer than 1 in 1.32 days is intermittent
SPORADIC_ADI = 20.0  # less than one demand day in 20: sporadic
HEAVY_RAIN_MM = 20.0
HISTORY_DAYS = 365
TREND_DAYS = 90


@dataclass(frozen=True)
class Clustering:
    labels: np.ndarray
    k: int
    score: float | None  # silhouette of the chosen k; None when there was nothing to choose
    method: str
    scores: dict[int, float]  # silhouette of every k tried


def choose_kmeans(features: pd.DataFrame, max_k: int = MAX_K, seed: int = 0) -> Clustering:
    """K-means for each k in 2..max_k (bounded by the distinct points); keep the best silhouette."""
    values = StandardScaler().fit_transform(features.to_numpy(dtype=float)) if len(features) else np.empty((0, 0))
    distinct = len(np.unique(np.round(values, 9), axis=0)) if len(values) else 0
    upper = min(max_k, distinct - 1, len(values) - 1)
    if upper < 2:
        return Clustering(np.zeros(len(features), dtype=int), 1, None, "single group (too few distinct points)", {})
    scores: dict[int, float] = {}
    best: tuple[float, int, np.ndarray] | None = None
    # One BLAS thread: on small inputs thread start-up costs ~50x the fit itself.
    with threadpool_limits(1):
        for k in range(2, upper + 1):
            labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(values)
            sample = min(len(values), SILHOUETTE_SAMPLE)
            score = float(silhouette_score(values, labels, sample_size=sample, random_state=seed))
            scores[k] = score
            if best is None or score > best[0] + 1e-12:
                best = (score, k, labels)
    score, k, labels = best
    order = features.iloc[:, 0].groupby(labels).mean().sort_values().index
    relabel = {old: new for new, old in enumerate(order)}
    return Clustering(np.array([relabel[x] for x in labels]), k, score, "k-means, k by silhouette", scores)


def profiles(
    features: pd.DataFrame, result: Clustering, label_of: Callable[[pd.Series, pd.DataFrame], str]
) -> pd.DataFrame:
    """One row per cluster: size, the mean of every feature (original units) and a Portuguese label."""
    means = features.groupby(result.labels).mean()
    sizes = pd.Series(result.labels).value_counts()
    rows = []
    for cluster_id, centroid in means.iterrows():
        rows.append(
            {
                "cluster_id": int(cluster_id),
                "label": label_of(centroid, means),  # made unique below
                "size": int(sizes[cluster_id]),
                "k": result.k,
                "method": result.method,
                "score": result.score,
                "centroid": {name: _clean(value) for name, value in centroid.items()},
            }
        )
    frame = pd.DataFrame(rows)
    repeated = frame["label"].duplicated(keep=False)
    frame.loc[repeated, "label"] += " (grupo " + frame.loc[repeated, "cluster_id"].astype(str) + ")"
    return frame


def _clean(value: float) -> float | None:
    return None if pd.isna(value) else round(float(value), 6)


def _level(value: float, column: pd.Series, feminine: bool = False) -> str:
    """'alto' / 'médio' / 'baixo' (or 'alta' ...) relative to the other clusters, on a log scale."""
    logs = np.log1p(column.clip(lower=0))
    if len(column) < 2 or logs.max() == logs.min():
        word = "médio"
    else:
        position = (np.log1p(max(value, 0)) - logs.min()) / (logs.max() - logs.min())
        word = "alto" if position > 2 / 3 else "baixo" if position < 1 / 3 else "médio"
    return word[:-1] + "a" if feminine else word


# ----------------------------------------------------------------------------------------- towers

TOWER_FEATURES = ["daily_value_brl", "daily_issue_events", "active_day_share", "cv_weekly", "rain_lift", "trend_ratio"]


def tower_movements(as_of: pd.Timestamp) -> RowFilters:
    """The movement rows tower_features uses (the tower issues of its last HISTORY_DAYS), as row filters
    of a lake read: a year of a history of several."""
    since = (pd.Timestamp(as_of) - pd.Timedelta(days=HISTORY_DAYS)).date()
    return [("movement_type", "==", "issue"), ("movement_date", ">", since)]


def tower_features(
    movements: pd.DataFrame,
    sites: pd.DataFrame,
    unit_cost: pd.Series,
    weather: pd.DataFrame | None,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """Per tower over the last year: issue events (failures) and value per day, share of active days,
    weekly variability, lift on heavy-rain days, and the last quarter against the year."""
    as_of = pd.Timestamp(as_of)
    towers = sites.loc[sites["site_type"] == "tower", "site_id"]
    mv = movements[(movements["movement_type"] == "issue") & movements["site_id"].isin(towers)].copy()
    mv["movement_date"] = pd.to_datetime(mv["movement_date"])
    mv = mv[(mv["movement_date"] > as_of - pd.Timedelta(days=HISTORY_DAYS)) & (mv["movement_date"] <= as_of)]
    mv["value"] = mv["quantity"] * mv["material_id"].map(unit_cost).fillna(0.0)
    days = pd.date_range(as_of - pd.Timedelta(days=HISTORY_DAYS - 1), as_of, freq="D")
    events = (
        mv.groupby(["site_id", "movement_date"])
        .size()
        .unstack(fill_value=0)
        .reindex(index=towers, columns=days, fill_value=0)
    )
    value = (
        mv.groupby(["site_id", "movement_date"])["value"]
        .sum()
        .unstack(fill_value=0.0)
        .reindex(index=towers, columns=days, fill_value=0.0)
    )
    weekly = value.T.resample("W").sum().T
    frame = pd.DataFrame(index=pd.Index(towers, name="site_id"))
    frame["daily_value_brl"] = value.mean(axis=1)
    frame["daily_issue_events"] = events.mean(axis=1)
    frame["active_day_share"] = (events > 0).mean(axis=1)
    frame["cv_weekly"] = (weekly.std(axis=1, ddof=0) / weekly.mean(axis=1)).where(weekly.mean(axis=1) > 0)
    frame["rain_lift"] = _rain_lift(events, weather)
    recent = events.loc[:, events.columns > as_of - pd.Timedelta(days=TREND_DAYS)].mean(axis=1)
    frame["trend_ratio"] = (recent / frame["daily_issue_events"]).where(frame["daily_issue_events"] > 0)
    frame["distinct_materials"] = mv.groupby("site_id")["material_id"].nunique().reindex(towers).fillna(0).astype(int)
    return frame.reset_index()


def _rain_lift(events: pd.DataFrame, weather: pd.DataFrame | None) -> pd.Series:
    if weather is None or weather.empty:
        return pd.Series(np.nan, index=events.index)
    rain = weather.assign(date=pd.to_datetime(weather["date"])).set_index("date")["precipitation_mm"]
    wet = rain.reindex(events.columns).fillna(0.0).to_numpy() >= HEAVY_RAIN_MM
    if wet.sum() == 0 or (~wet).sum() == 0:
        return pd.Series(np.nan, index=events.index)
    dry_mean = events.loc[:, ~wet].mean(axis=1)
    return (events.loc[:, wet].mean(axis=1) / dry_mean).where(dry_mean > 0)


def cluster_towers(features: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-tower assignments, cluster profiles)."""
    model_input = _model_input(features, TOWER_FEATURES, log_columns=("daily_value_brl", "daily_issue_events"))
    result = choose_kmeans(model_input)
    assigned = features.assign(cluster_id=result.labels)
    return assigned, profiles(features[TOWER_FEATURES], result, _tower_label)


def _tower_label(centroid: pd.Series, means: pd.DataFrame) -> str:
    label = f"consumo {_level(centroid['daily_value_brl'], means['daily_value_brl'])}"
    label += f", frequência de falhas {_level(centroid['daily_issue_events'], means['daily_issue_events'], True)}"
    if centroid.get("rain_lift", np.nan) > 1.2:
        label += ", sensível à chuva"
    if centroid.get("trend_ratio", np.nan) > 1.15:
        label += ", em alta"
    elif centroid.get("trend_ratio", np.nan) < 0.85:
        label += ", em queda"
    return label


# -------------------------------------------------------------------------------------- materials

MATERIAL_FEATURES = ["annual_value_brl", "mean_daily_demand", "cv_weekly", "adi_days"]


def material_features(demand: pd.DataFrame, unit_cost: pd.Series, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per material over the last year: consumption value, mean daily demand, weekly CV, mean inter-demand interval."""
    as_of = pd.Timestamp(as_of)
    d = demand.assign(date=pd.to_datetime(demand["date"]))
    d = d[(d["date"] > as_of - pd.Timedelta(days=HISTORY_DAYS)) & (d["date"] <= as_of)]
    days = d["date"].nunique() or 1
    grid = d.pivot_table(index="material_id", columns="date", values="demand", aggfunc="sum", fill_value=0.0)
    weekly = grid.T.resample("W").sum().T
    frame = pd.DataFrame(index=grid.index)
    frame["mean_daily_demand"] = grid.sum(axis=1) / days
    frame["annual_value_brl"] = grid.sum(axis=1) * frame.index.map(unit_cost).fillna(0.0) * 365 / days
    frame["cv_weekly"] = (weekly.std(axis=1, ddof=0) / weekly.mean(axis=1)).where(weekly.mean(axis=1) > 0)
    demand_days = (grid > 0).sum(axis=1)
    frame["adi_days"] = (days / demand_days).where(demand_days > 0)
    frame["abc_class"] = abc_classes(frame["annual_value_brl"])
    frame["xyz_class"] = xyz_classes(frame["cv_weekly"])
    return frame.rename_axis("material_id").reset_index()[["material_id", *MATERIAL_FEATURES, "abc_class", "xyz_class"]]


def abc_classes(value: pd.Series) -> pd.Series:
    """A: the materials making the first 80 % of consumption value, B: the next 15 %, C: the rest."""
    ordered = value.sort_values(ascending=False, kind="stable")
    total = ordered.sum()
    if total <= 0:
        return pd.Series("C", index=value.index)
    before = (ordered.cumsum() - ordered) / total  # share reached before this material
    labels = np.where(before < ABC_CUTS[0], "A", np.where(before < ABC_CUTS[1], "B", "C"))
    return pd.Series(labels, index=ordered.index).reindex(value.index)


def xyz_classes(cv: pd.Series) -> pd.Series:
    """X: steady (CV < 0.5), Y: variable (< 1.0), Z: erratic or no demand."""
    return pd.Series(np.where(cv < XYZ_CUTS[0], "X", np.where(cv < XYZ_CUTS[1], "Y", "Z")), index=cv.index)


def cluster_materials(features: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-material segments with their cluster, cluster profiles)."""
    model_input = _model_input(
        features, MATERIAL_FEATURES, log_columns=("annual_value_brl", "mean_daily_demand", "adi_days")
    )
    result = choose_kmeans(model_input)
    return features.assign(cluster_id=result.labels), profiles(features[MATERIAL_FEATURES], result, _material_label)


def _material_label(centroid: pd.Series, means: pd.DataFrame) -> str:
    value = _level(centroid["annual_value_brl"], means["annual_value_brl"])
    cv, adi = centroid["cv_weekly"], centroid["adi_days"]
    if pd.isna(cv) or pd.isna(adi):
        return f"valor {value}, sem demanda"
    frequency = "frequente" if adi <= ADI_CUTOFF else "intermitente" if adi <= SPORADIC_ADI else "esporádica"
    pattern = "regular" if cv < XYZ_CUTS[0] else "variável" if cv < XYZ_CUTS[1] else "errática"
    return f"valor {value}, demanda {frequency} e {pattern}"


def _model_input(features: pd.DataFrame, columns: list[str], log_columns: tuple[str, ...]) -> pd.DataFrame:
    """log1p of the skewed columns, missing values at the column median (or 0), first column kept first."""
    frame = features[columns].astype(float).copy()
    for column in log_columns:
        frame[column] = np.log1p(frame[column].clip(lower=0))
    frame["cv_weekly"] = frame["cv_weekly"].clip(upper=5.0)
    return frame.fillna(frame.median()).fillna(0.0)
