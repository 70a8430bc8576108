"""Resources of the gold layer: the marts' dbt project, the BI role's password, the forecasts' retention."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource

from nova_assets.dbt_projects import DBT_EXECUTABLE, gold_project
from nova_assets.defs.gold.base.postgres import GoldAccessResource, GoldRetentionResource


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "dbt_gold": DbtCliResource(project_dir=gold_project, dbt_executable=DBT_EXECUTABLE),
            # bound only when set, so an unset password means NOLOGIN rather than a missing-variable error
            "gold_access": GoldAccessResource(bi_password=dg.EnvVar("NOVA_BI_PASSWORD"))
            if os.environ.get("NOVA_BI_PASSWORD")
            else GoldAccessResource(),
            "gold_retention": GoldRetentionResource(
                forecast_retention_days=dg.EnvVar("NOVA_GOLD_FORECAST_RETENTION_DAYS")
            ),
        }
    )
