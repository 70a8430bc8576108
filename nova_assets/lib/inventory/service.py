"""The math behind the service targets (lib.inventory.choices): normal and Student t (scipy, no lookup tables).

A target is either a cycle service level (probability of no stockout in a replenishment cycle:
z is the normal quantile) or a fill rate (share of demand served from stock: z solves
sigma_LTD * G(z) = (1 - fill) * Q with G the standard normal loss function). With a sigma
estimated from few errors, the Student t of its degrees of freedom takes the normal's place.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special, stats


def z_cycle_service(level: float | np.ndarray, dof: np.ndarray | None = None) -> np.ndarray:
    """z such that P(N(0,1) <= z) = level, or P(T_dof <= z) for a Student t (a sigma estimated
    from `dof` errors: the predictive distribution carries that estimate's uncertainty)."""
    if dof is None:
        return np.asarray(stats.norm.ppf(level), dtype=float)
    return np.asarray(special.stdtrit(np.maximum(dof, MIN_DOF), level), dtype=float)


def standard_normal_loss(z: float | np.ndarray, dof: np.ndarray | None = None) -> np.ndarray:
    """G(z) = E[(Z - z)+] = phi(z) - z * (1 - Phi(z)): expected shortage per unit of sigma; for a
    Student t, ((dof + z²) / (dof - 1)) f(z) - z * (1 - F(z))."""
    z = np.asarray(z, dtype=float)
    if dof is None:
        return np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi) - z * special.ndtr(-z)
    dof = np.maximum(dof, MIN_DOF)
    return (dof + z * z) / (dof - 1) * _t_pdf(z, dof) - z * special.stdtr(dof, -z)


def _t_pdf(z: np.ndarray, dof: np.ndarray) -> np.ndarray:
    """Density of the Student t (scipy.special, without scipy.stats' per-call overhead)."""
    log_norm = special.gammaln((dof + 1) / 2) - special.gammaln(dof / 2) - 0.5 * np.log(dof * np.pi)
    return np.exp(log_norm - (dof + 1) / 2 * np.log1p(z * z / dof))


Z_MIN, Z_MAX = 0.0, 6.0  # never a negative safety stock from a normal fill-rate target
MIN_DOF = 2.0  # a t with fewer degrees of freedom has no finite variance


def z_fill_rate(
    fill: float | np.ndarray, order_quantity: np.ndarray, sigma_ltd: np.ndarray, dof: np.ndarray | None = None
) -> np.ndarray:
    """Smallest z in [Z_MIN, Z_MAX] with sigma_LTD * G(z) <= (1 - fill) * Q, per item (G of the
    Student t with `dof` degrees of freedom when given).

    Q is the replenishment quantity (the expected shortage is allowed once per cycle). G is convex
    and decreasing, so Newton's method from Z_MIN climbs monotonically to the root (scipy's
    vectorised newton, G' = -(1 - F)). Items without uncertainty get Z_MIN.
    """
    fill_b, q, sigma = np.broadcast_arrays(
        np.asarray(fill, float), np.asarray(order_quantity, float), np.asarray(sigma_ltd, float)
    )
    dof = None if dof is None else np.broadcast_to(np.asarray(dof, float), sigma.shape)
    target = np.divide((1.0 - fill_b) * np.maximum(q, 0.0), sigma, out=np.full(sigma.shape, np.inf), where=sigma > 0)
    out = np.full(sigma.shape, Z_MIN)
    solve = standard_normal_loss(Z_MIN, dof) > target
    out[solve & (standard_normal_loss(Z_MAX, dof) >= target)] = Z_MAX
    solve &= standard_normal_loss(Z_MAX, dof) < target
    if solve.any():
        goal = target[solve]
        part = None if dof is None else dof[solve]
        tail = special.ndtr if dof is None else (lambda z: special.stdtr(np.maximum(part, MIN_DOF), z))
        root = optimize.newton(
            lambda z: standard_normal_loss(z, part) - goal,
            np.full(goal.shape, Z_MIN),
            fprime=lambda z: -tail(-z),
            tol=1e-10,
            maxiter=200,
        )
        out[solve] = np.clip(root, Z_MIN, Z_MAX)
    return out
