"""The steps between the demand facts and the buyers' alerts: forecasts, ensemble, the policy
backtest (its calibration sizes the reorder points), reorder points, alerts. With two cores and
~40 steps, the executor would otherwise start whichever step is ready (a gold reference table, a
report) and leave the longest chain waiting for a slot. Dagster's executors start higher-priority
steps first."""

CRITICAL_PATH_TAGS = {"dagster/priority": "1"}
# The one long step on the critical path that waits for nothing but the demand facts (the policy
# backtest on a backtest day): started before the forecast steps, it runs beside them on one core
# instead of after them, where the reorder points would wait for it (longest job first).
LONG_CRITICAL_STEP_TAGS = {"dagster/priority": "2"}
