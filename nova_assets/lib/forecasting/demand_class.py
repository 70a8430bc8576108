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
    """Class (as its string value) of every series of a long (unique_id, ds, y) history."""
    classes = {}
    for uid, y in history.groupby("unique_id", sort=True)["y"]:
        values = y.to_numpy(dtype=float)
        classes[uid] = str(DemandClass.SHORT if len(values) < season + 1 else classify(values)[0])
    return pd.Series(classes, name="demand_class", dtype=object)
