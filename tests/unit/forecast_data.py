"""Small synthetic demand panels shared by the forecasting tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

WEEK = np.array([5.0, 6.0, 7.0, 8.0, 9.0, 1.0, 0.0])


def history(values: dict[str, np.ndarray], start: str = "2024-01-01", freq: str = "D") -> pd.DataFrame:
    """Long (unique_id, ds, y) frame, every series ending on the same period."""
    end = max(len(v) for v in values.values())
    dates = pd.date_range(start, periods=end, freq=freq)
    return pd.concat(
        [
            pd.DataFrame({"unique_id": uid, "ds": dates[end - len(v) :], "y": np.asarray(v, dtype=float)})
            for uid, v in values.items()
        ],
        ignore_index=True,
    )


def weekly_panel(n_series: int, weeks: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Poisson demand with the WEEK profile, each series at its own level."""
    rng = np.random.default_rng(seed)
    levels = np.linspace(0.5, 4.0, n_series)
    return {f"S{i:02d}": rng.poisson(np.tile(WEEK, weeks) * level).astype(float) for i, level in enumerate(levels)}
