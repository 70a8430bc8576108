"""Syntetos-Boylan demand classes: which models make sense for a series.

Routing rule (used by every family and by the ensemble): a series with fewer than `season + 1`
observations is SHORT and one without any demand is NO_DEMAND; both get only the baseline.
Everything else is classified by ADI and CV² and each family decides which classes it fits
(Prophet and AutoARIMA only smooth/erratic series, for instance).
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
CV2_NEAR = 1e-9  # route_classes: closer to the cut-off than this, a series is classified one by one


class DemandClass(StrEnum):
    SMOOTH = "smooth"
    ERRATIC = "erratic"
    INTERMITTENT = "intermittent"
    LUMPY = "lumpy"
    NO_DEMAND = "no_demand"
    SHORT = "short"


MODELLED = frozenset({DemandClass.SMOOTH, DemandClass.ERRATIC, DemandClass.INTERMITTENT, DemandClass.LUMPY})
REGULAR = frozenset({DemandClass.SMOOTH, DemandClass.ERRATIC})
SPARSE = frozenset({DemandClass.INTERMITTENT, DemandClass.LUMPY, DemandClass.NO_DEMAND})  # ADI >= cutoff or none


def classify(demand: np.ndarray) -> tuple[DemandClass, float, float]:
    """Return the class, the average inter-demand interval (ADI) and CV² of non-zero sizes."""
    nonzero = demand[demand > 0]
    if len(nonzero) == 0:
        return DemandClass.NO_DEMAND, float("inf"), float("nan")
    adi = len(demand) / len(nonzero)
    cv2 = float((np.std(nonzero) / np.mean(nonzero)) ** 2) if len(nonzero) > 1 else 0.0
    if adi < ADI_CUTOFF:
        cls = DemandClass.SMOOTH if cv2 < CV2_CUTOFF else DemandClass.ERRATIC
    else:
        cls = DemandClass.INTERMITTENT if cv2 < CV2_CUTOFF else DemandClass.LUMPY
    return cls, float(adi), cv2


def sparse_rows(matrix: np.ndarray) -> np.ndarray:
    """Per row of a (series, periods) matrix, NaN where unobserved: is its class in SPARSE? Those
    are the classes with ADI >= ADI_CUTOFF (or no demand at all), so CV² is not needed, and a whole
    matrix is answered at once instead of row by row."""
    observed = np.sum(~np.isnan(matrix), axis=1)
    nonzero = np.sum(np.nan_to_num(matrix) > 0, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # no demand: decided by the first test
        return (nonzero == 0) | (observed / nonzero >= ADI_CUTOFF)


def route_classes(history: pd.DataFrame, season: int) -> pd.Series:
    """Class (as its string value) of every series of a long (unique_id, ds, y) history, indexed by the
    sorted ids: `classify` of each series, or SHORT below `season + 1` points.

    Counted for all series at once; a series whose CV² lies within CV2_NEAR of the cut-off, where the
    summation order could decide its side, is classified by `classify` itself."""
    codes, uniques = pd.factorize(history["unique_id"], sort=True)
    ids = pd.Index(uniques, dtype=object)
    if ids.empty:
        return pd.Series(index=ids, name="demand_class", dtype=object)
    y = history["y"].to_numpy(float)
    positive = y > 0  # NaN compares False
    points = np.bincount(codes, minlength=len(ids))
    nonzero = np.bincount(codes, weights=positive, minlength=len(ids))
    with np.errstate(divide="ignore", invalid="ignore"):  # series without demand: NO_DEMAND below
        mean = np.bincount(codes, weights=np.where(positive, y, 0.0), minlength=len(ids)) / nonzero
        squares = np.where(positive, (y - mean[codes]) ** 2, 0.0)
        cv2 = np.where(nonzero > 1, np.bincount(codes, weights=squares, minlength=len(ids)) / nonzero / mean**2, 0.0)
        regular = points / nonzero < ADI_CUTOFF
    steady = cv2 < CV2_CUTOFF
    classes = np.select(
        [points < season + 1, nonzero == 0, regular & steady, regular, steady],
        [DemandClass.SHORT, DemandClass.NO_DEMAND, DemandClass.SMOOTH, DemandClass.ERRATIC, DemandClass.INTERMITTENT],
        DemandClass.LUMPY,
    ).astype(object)
    near = np.flatnonzero((points >= season + 1) & (nonzero > 1) & (np.abs(cv2 - CV2_CUTOFF) < CV2_NEAR))
    if len(near):
        order = np.argsort(codes, kind="stable")
        starts = np.searchsorted(codes[order], near)
        for code, start in zip(near, starts, strict=True):
            classes[code] = classify(y[order[start : start + points[code]]])[0]
    return pd.Series([str(c) for c in classes], index=ids, name="demand_class", dtype=object)
