"""Service targets and the normal-distribution math behind them (scipy, no lookup tables).

A target is either a cycle service level (probability of no stockout in a replenishment cycle:
z is the normal quantile) or a fill rate (share of demand served from stock: z solves
sigma_LTD * G(z) = (1 - fill) * Q with G the standard normal loss function).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy import optimize, special, stats


class Measure(StrEnum):
    CSL = "csl"
    FILL_RATE = "fill_rate"


@dataclass(frozen=True)
class ServiceTarget:
    measure: Measure
    level: float

    def __post_init__(self) -> None:
        if not 0.5 <= self.level < 1:
            raise ValueError(f"service level must be in [0.5, 1), got {self.level}")

    def __str__(self) -> str:
        return f"{self.measure}:{self.level:g}"


def parse_targets(text: str) -> dict[str, ServiceTarget]:
    """'A=csl:0.98,B=csl:0.95,C=fill_rate:0.95' -> target per criticality class (env-var format)."""
    targets = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            klass, spec = part.split("=", 1)
            measure, level = spec.split(":", 1)
            targets[klass.strip()] = ServiceTarget(Measure(measure.strip().lower()), float(level))
        except ValueError as exc:
            raise ValueError(f"bad service target {part!r} (expected CLASS=csl|fill_rate:LEVEL): {exc}") from exc
    if not targets:
        raise ValueError("no service target given")
    return targets


def z_cycle_service(level: float | np.ndarray) -> np.ndarray:
    """z such that P(N(0,1) <= z) = level."""
    return np.asarray(stats.norm.ppf(level), dtype=float)


def standard_normal_loss(z: float | np.ndarray) -> np.ndarray:
    """G(z) = E[(Z - z)+] = phi(z) - z * (1 - Phi(z)): expected shortage per unit of sigma."""
    z = np.asarray(z, dtype=float)
    return np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi) - z * special.ndtr(-z)


Z_MIN, Z_MAX = 0.0, 6.0  # never a negative safety stock from a normal fill-rate target


def z_fill_rate(fill: float | np.ndarray, order_quantity: np.ndarray, sigma_ltd: np.ndarray) -> np.ndarray:
    """Smallest z in [Z_MIN, Z_MAX] with sigma_LTD * G(z) <= (1 - fill) * Q, per item.

    Q is the replenishment quantity (the expected shortage is allowed once per cycle). G is convex
    and decreasing, so Newton's method from Z_MIN climbs monotonically to the root (scipy's
    vectorised newton, G' = -(1 - Phi)). Items without uncertainty get Z_MIN.
    """
    fill_b, q, sigma = np.broadcast_arrays(
        np.asarray(fill, float), np.asarray(order_quantity, float), np.asarray(sigma_ltd, float)
    )
    target = np.divide((1.0 - fill_b) * np.maximum(q, 0.0), sigma, out=np.full(sigma.shape, np.inf), where=sigma > 0)
    out = np.full(sigma.shape, Z_MIN)
    solve = standard_normal_loss(Z_MIN) > target
    out[solve & (standard_normal_loss(Z_MAX) >= target)] = Z_MAX
    solve &= standard_normal_loss(Z_MAX) < target
    if solve.any():
        goal = target[solve]
        root = optimize.newton(
            lambda z: standard_normal_loss(z) - goal,
            np.full(goal.shape, Z_MIN),
            fprime=lambda z: -special.ndtr(-z),
            tol=1e-10,
            maxiter=200,
        )
        out[solve] = np.clip(root, Z_MIN, Z_MAX)
    return out
