"""One small global LSTM across items (CPU), forecasting all horizon steps at once.

Inputs are windows of log1p(demand / scale) plus an "observed" flag (series are left-padded with
zeros before they start), the scale being the series' mean non-zero demand known at the window's
origin (never one that includes the targets, see panel.origin_scales). The head outputs the log
of the mean of each of the next H scaled values and is trained with a Poisson loss, so forecasts
are non-negative means like the Tweedie boosters'. Training draws at most MAX_SAMPLES windows
from all items: fixed size, fixed seed, fixed epochs, so 300 daily series x 1,100 days train in
seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.panel import FitSpec, Panel, future_dates, long_forecast

if TYPE_CHECKING:
    import torch
    from torch import nn

MODEL = "LSTM"
HIDDEN = 32
EPOCHS = 8
BATCH = 256
LEARNING_RATE = 3e-3
MAX_SAMPLES = 20_000
MAX_WINDOW = 112
# One intra-op thread: for a network this small, thread hand-offs cost more than they save
# (measured: docs/benchmarks.md).
TORCH_THREADS = 1


def _net(horizon: int) -> nn.Module:
    """LSTM over the window, then a linear head: the log of the mean of each of the `horizon` steps.
    torch is imported here, when a net is built: Dagster step processes that do not fit start faster."""
    from torch import nn

    class _Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(input_size=2, hidden_size=HIDDEN, batch_first=True)
            self.head = nn.Linear(HIDDEN, horizon)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            _, (hidden, _) = self.lstm(x)
            return self.head(hidden[-1])

    return _Net()


def window_length(season: int, horizon: int) -> int:
    """Input length: two seasons or one horizon, whichever is longer (capped)."""
    return min(MAX_WINDOW, max(2 * season, horizon, 8))


def forecast(history: pd.DataFrame, classes: pd.Series, spec: FitSpec) -> pd.DataFrame:
    """Long frame with the LSTM forecast for every series of `history`."""
    import torch

    torch.manual_seed(spec.seed)
    torch.set_num_threads(TORCH_THREADS)
    panel = Panel.from_history(history)
    window = window_length(spec.season, spec.horizon)
    pad = ((0, 0), (window, 0))
    demand = np.pad(np.nan_to_num(panel.values), pad)
    observed = np.pad(~np.isnan(panel.values), pad).astype(np.float32)
    scale = np.pad(panel.origin_scales(), pad, constant_values=np.nan)

    # origin o (padded index): inputs o - window .. o - 1, targets o .. o + H - 1, scale known at o - 1
    rows, origins = np.nonzero(np.isfinite(scale[:, window : demand.shape[1] - spec.horizon]))
    origins = origins + window + 1
    rng = np.random.default_rng(spec.seed)
    if len(rows) > MAX_SAMPLES:
        pick = np.sort(rng.choice(len(rows), MAX_SAMPLES, replace=False))
        rows, origins = rows[pick], origins[pick]
    last_scale = np.nan_to_num(scale[:, -1], nan=1.0)  # only no-demand series lack one; they are routed away
    last = _inputs(demand[:, -window:], observed[:, -window:], last_scale)
    if len(rows) == 0:  # no series is longer than the horizon: forecast each one's mean level
        predicted = np.repeat(np.nanmean(panel.values, axis=1)[:, None], spec.horizon, axis=1)
    else:
        before, after = np.arange(-window, 0), np.arange(spec.horizon)
        sample_scale = scale[rows, origins - 1]
        inputs = rows[:, None], origins[:, None] + before
        x = _inputs(demand[inputs], observed[inputs], sample_scale)
        y = demand[rows[:, None], origins[:, None] + after] / sample_scale[:, None]
        net = _net(spec.horizon)
        _train(net, torch.from_numpy(x), torch.from_numpy(y.astype(np.float32)), rng)
        with torch.no_grad():
            predicted = torch.exp(net(torch.from_numpy(last))).numpy().astype(float) * last_scale[:, None]
    dates = future_dates(panel.dates[-1], spec.horizon, spec.freq)
    return long_forecast(panel.ids, dates, {MODEL: predicted})


def _inputs(demand: np.ndarray, observed: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(samples, window, 2) network inputs: log1p of scaled demand and the observed flag."""
    return np.stack([np.log1p(demand / scale[:, None]), observed], axis=2).astype(np.float32)


def _train(net: nn.Module, x: torch.Tensor, y: torch.Tensor, rng: np.random.Generator) -> None:
    import torch
    from torch import nn

    optimiser = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.PoissonNLLLoss(log_input=True, full=False)
    with torch.no_grad():  # start at the average level so early epochs are not spent finding it
        net.head.bias.fill_(float(np.log(max(y.mean().item(), 1e-3))))
    for _ in range(EPOCHS):
        order = torch.from_numpy(rng.permutation(len(x)))
        for start in range(0, len(x), BATCH):
            batch = order[start : start + BATCH]
            optimiser.zero_grad()
            loss = loss_fn(net(x[batch]), y[batch])
            loss.backward()
            optimiser.step()
