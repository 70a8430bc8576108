"""Syntetos-Boylan demand classes: which models make sense for a series."""

from __future__ import annotations

from enum import StrEnum

import numpy as np

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49


class DemandClass(StrEnum):
    SMOOTH = "smooth"
    ERRATIC = "erratic"
    INTERMITTENT = "intermittent"
    LUMPY = "lumpy"
    NO_DEMAND = "no_demand"


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
