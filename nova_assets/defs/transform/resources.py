"""Resources of the transform layer: the feature store's dbt project."""

import dagster as dg

from nova_assets.dbt_projects import dbt_resource, features_project


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"dbt": dbt_resource(features_project)})
