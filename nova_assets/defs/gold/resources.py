"""Resources of the gold layer: the marts' dbt project, the BI role's password, the forecasts' retention."""

import dagster as dg

from nova_assets.dbt_projects import dbt_resource, gold_project
from nova_assets.defs.gold.base.postgres import GoldAccessResource, GoldRetentionResource
from nova_assets.defs.resources import secret
from nova_assets.settings import load_settings


@dg.definitions
def resources() -> dg.Definitions:
    settings = load_settings()
    return dg.Definitions(
        resources={
            "dbt_gold": dbt_resource(gold_project),
            # an unset password means NOLOGIN rather than a missing-variable error
            "gold_access": GoldAccessResource(bi_password=secret(settings, "NOVA_BI_PASSWORD")),
            "gold_retention": GoldRetentionResource(forecast_retention_days=str(settings.gold_forecast_retention_days)),
        }
    )
