"""Resources of the automation layer: who hears that a run failed.

Kept out of sensors.py: a module with a `@dg.definitions` function contributes only what that
function returns, so a binding beside the sensors would hide them from the code location.
"""

import dagster as dg

from nova_assets.settings import load_settings


class OpsAlertConfig(dg.ConfigurableResource):
    """Who hears that a run failed (comma-separated e-mail addresses); empty: only the Dagster log."""

    recipients: str = ""


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"ops": OpsAlertConfig(recipients=load_settings().ops_email)})
