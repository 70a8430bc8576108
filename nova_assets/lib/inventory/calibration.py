"""The nominal service level that reaches a target, fitted on simulated service.

The policy's distributions are fitted on short, sparse histories and the simulation's dynamics
(whole units, order rounding, lead-time draws) are not in them, so a nominal 95 % rarely gives
95 %. Shadow replicas of the policy run in the backtest at fixed nominal levels (`GRID`); the
service they reached so far, measured as the backtest measures it (cycles opened and those that
had a stockout; demand and what was served from stock), maps a target to the nominal level that
reaches it, per method (normal or compound) and measure. At every decision the map uses only
outcomes before it, so the backtest's figures are out of sample; the daily cycle uses the map
fitted on the whole simulated history (`frame` / `from_frame`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

GRID = (0.80, 0.90, 0.95, 0.98, 0.995)  # nominal levels of the shadow replicas
PRIOR_CYCLES = 200.0  # closed cycles at which the map and the identity weigh the same
NOMINAL_RANGE = (0.5, 0.999)
METHODS = ("normal", "compound")
MEASURES = ("csl", "fill_rate")
GROUPS = [(method, measure) for method in METHODS for measure in MEASURES]
FRAME_COLUMNS = ["method", "service_measure", "nominal_level", "cycles", "cycles_with_stockout", "demand", "filled"]


def _logit(p: np.ndarray | float) -> np.ndarray:
    p = np.asarray(p, float)
    return np.log(p / (1.0 - p))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class ServiceCalibration:
    """Pooled outcomes of the shadow replicas per (method, measure) group and grid level, and the
    target -> nominal map they give. Mutable: the backtest records each period into it."""

    grid: np.ndarray = field(default_factory=lambda: np.array(GRID))
    cycles: np.ndarray = field(init=False)
    short: np.ndarray = field(init=False)
    demand: np.ndarray = field(init=False)
    filled: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.grid = np.asarray(self.grid, float)
        shape = (len(GROUPS), self.grid.size)
        self.cycles, self.short, self.demand, self.filled = (np.zeros(shape) for _ in range(4))

    @staticmethod
    def group(method: np.ndarray, is_fill: np.ndarray) -> np.ndarray:
        """Group index per item: METHODS x MEASURES."""
        method_id = (np.asarray(method) == METHODS[1]).astype(int)
        return method_id * len(MEASURES) + np.asarray(is_fill, bool).astype(int)

    def record(
        self,
        method: np.ndarray,
        is_fill: np.ndarray,
        opened: np.ndarray,
        went_short: np.ndarray,
        demand: np.ndarray,
        served: np.ndarray,
    ) -> None:
        """Add one period of the shadow replicas: (K, n_items) arrays, replica k at grid level k."""
        k = opened.shape[0]
        cell = (self.group(method, is_fill)[None, :] * k + np.arange(k)[:, None]).ravel()
        size = len(GROUPS) * k
        for total, values in (
            (self.cycles, opened),
            (self.short, went_short),
            (self.demand, demand),
            (self.filled, served),
        ):
            total += np.bincount(cell, weights=np.asarray(values, float).ravel(), minlength=size).reshape(total.shape)

    def achieved(self) -> np.ndarray:
        """Service reached per group and grid level (cycle service or fill rate by the group's
        measure), shrunk half a cycle toward a miss so that no level is certain."""
        miss_cycles = (self.short + 0.5) / (self.cycles + 1.0)
        miss_demand = np.divide(
            self.demand - self.filled, self.demand, out=np.ones_like(self.demand), where=self.demand > 0
        )
        miss_demand = (miss_demand * self.cycles + 0.5) / (self.cycles + 1.0)
        is_fill = np.array([measure == MEASURES[1] for _, measure in GROUPS])[:, None]
        return 1.0 - np.where(is_fill, miss_demand, miss_cycles)

    def nominal(self, target: np.ndarray, method: np.ndarray, is_fill: np.ndarray) -> np.ndarray:
        """The nominal level per item (targets (n,) or (R, n)) that the shadow replicas of its group
        say reaches its target: the achieved-vs-nominal curve read backwards in logit space
        (monotone; slope one beyond the grid), weighted against the identity by the evidence of
        the two grid points around the target."""
        target = np.asarray(target, float)
        group = np.broadcast_to(self.group(method, is_fill), target.shape[-1:])
        out = _logit(target).copy()
        x = _logit(self.grid)
        reached = self.achieved()
        for g in np.unique(group):
            if self.cycles[g].sum() == 0:
                continue
            y = np.maximum.accumulate(_logit(reached[g])) + 1e-9 * np.arange(x.size)
            cols = group == g
            wanted = out[..., cols]
            inner = np.interp(wanted, y, x)
            inverse = np.where(
                wanted < y[0], x[0] + wanted - y[0], np.where(wanted > y[-1], x[-1] + wanted - y[-1], inner)
            )
            upper = np.clip(np.searchsorted(y, wanted), 1, x.size - 1)
            evidence = np.minimum(self.cycles[g][upper - 1], self.cycles[g][upper])
            weight = evidence / (evidence + PRIOR_CYCLES)
            out[..., cols] = wanted + weight * (inverse - wanted)
        return np.clip(_expit(out), *NOMINAL_RANGE)

    def frame(self) -> pd.DataFrame:
        """The recorded outcomes, one row per group and grid level (FRAME_COLUMNS)."""
        rows = [
            {
                "method": method,
                "service_measure": measure,
                "nominal_level": float(level),
                "cycles": float(self.cycles[g, k]),
                "cycles_with_stockout": float(self.short[g, k]),
                "demand": float(self.demand[g, k]),
                "filled": float(self.filled[g, k]),
            }
            for g, (method, measure) in enumerate(GROUPS)
            for k, level in enumerate(self.grid)
        ]
        return pd.DataFrame(rows, columns=FRAME_COLUMNS)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> ServiceCalibration:
        grid = np.sort(frame["nominal_level"].unique())
        out = cls(grid)
        index = {group: g for g, group in enumerate(GROUPS)}
        for row in frame.itertuples(index=False):
            g, k = index[(row.method, row.service_measure)], int(np.searchsorted(grid, row.nominal_level))
            out.cycles[g, k], out.short[g, k] = row.cycles, row.cycles_with_stockout
            out.demand[g, k], out.filled[g, k] = row.demand, row.filled
        return out
