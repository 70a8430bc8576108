"""Resource bindings: every value from the settings registry (`nova_assets.settings`), loaded when the
code location loads, so a bad value stops it at start naming the variable. Secrets reach a resource
through `dg.EnvVar` (`secret`), so their values never show in the UI's run configuration."""

import dagster as dg

from nova_assets.lib.sources.endpoints import ENDPOINTS
from nova_assets.resources import CycleConfig, LakeResource, MlflowResource, PostgresResource, SourcesResource
from nova_assets.settings import SETTINGS, Settings, load_settings


def secret(settings: Settings, name: str) -> str | dg.EnvVar:
    """A secret setting: an EnvVar when the environment sets it (Dagster reads it at run time and never
    shows it), else its embedded default (empty, or a local path)."""
    if not SETTINGS[name].secret:
        raise ValueError(f"{name} is not a secret setting: pass its value")
    return dg.EnvVar(name) if settings.origins[name] == "environment" else settings.environment()[name]


def sources_resource(settings: Settings) -> SourcesResource:
    return SourcesResource(
        landing_dir=str(settings.landing_dir),
        snapshot_dir=str(settings.snapshot_dir),
        offline=settings.offline,
        as_of_date=settings.environment()["NOVA_AS_OF_DATE"],
        weather_source=settings.weather_source,
        inmet_token=secret(settings, "NOVA_INMET_TOKEN"),
        inmet_station=settings.inmet_station,
        inmet_history_dir=str(settings.inmet_history_dir or ""),
        municipal_holidays=settings.municipal_holidays,
        api_urls={e.name: settings.environment()[e.setting] for e in ENDPOINTS},
        http_timeout_s=settings.http_timeout_s,
        http_attempts=settings.http_attempts,
        http_backoff_s=settings.http_backoff_s,
        erp_max_held_back_share=settings.erp_max_held_back_share,
        erp_replace_gap_days=settings.erp_replace_gap_days,
        erp_max_replaced_ratio=settings.erp_max_replaced_ratio,
        erp_plausible_factor=settings.erp_plausible_factor,
        erp_plausible_limits=settings.erp_plausible_limits,
    )


@dg.definitions
def resources() -> dg.Definitions:
    settings = load_settings()
    return dg.Definitions(
        resources={
            "lake": LakeResource(lake_dir=str(settings.lake_dir)),
            "sources": sources_resource(settings),
            "gold": PostgresResource(url=secret(settings, "NOVA_POSTGRES_URL")),
            "mlflow": MlflowResource(
                tracking_uri=secret(settings, "MLFLOW_TRACKING_URI"),
                artifact_root=str(settings.mlflow_artifact_root),
                ui_url=settings.mlflow_ui_url,
            ),
            "cycle": CycleConfig(
                horizon_days=settings.forecast_horizon, backtest_every_days=settings.backtest_every_days
            ),
        }
    )
