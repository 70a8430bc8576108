"""The MLflow experiments the project writes to: their names in one place, importable without MLflow."""

# the daily cycle's runs: each forecast family, the ensemble, the failure model
FORECAST_EXPERIMENT = "nova-corrente-forecast"
# `nova evaluate`: one run per dev set
EVALUATION_EXPERIMENT = "nova-corrente-evaluation"
