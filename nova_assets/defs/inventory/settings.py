"""Inventory policy settings as a resource, bound from the settings registry (`nova_assets.settings`)."""

import dagster as dg

from nova_assets.lib.inventory.choices import OrderRule, parse_targets
from nova_assets.lib.inventory.policy import PolicySettings
from nova_assets.settings import embedded_defaults, load_settings

_DEFAULTS = embedded_defaults()


class InventorySettings(dg.ConfigurableResource):
    """Service targets per criticality class, order rule and costs, lead-time unit, context cap."""

    service_targets: str = _DEFAULTS.service_targets
    order_rule: str = _DEFAULTS.order_rule
    order_cost_brl: float = _DEFAULTS.order_cost_brl
    holding_cost_rate: float = _DEFAULTS.holding_cost_rate
    cover_days: float = _DEFAULTS.cover_days
    lead_time_unit: str = _DEFAULTS.lead_time_unit
    context_multiplier: bool = _DEFAULTS.context_multiplier
    context_factor_cap: float = _DEFAULTS.context_factor_cap
    alert_watch_days: float = _DEFAULTS.alert_watch_days
    backtest_lost_sales: bool = _DEFAULTS.policy_backtest_lost_sales

    @property
    def policy(self) -> PolicySettings:
        return PolicySettings(
            targets=parse_targets(self.service_targets),
            order_rule=OrderRule(self.order_rule.strip().lower()),
            cover_days=self.cover_days,
            order_cost_brl=self.order_cost_brl,
            context_multiplier=self.context_multiplier,
            context_cap=self.context_factor_cap,
        )

    @property
    def business_days(self) -> bool:
        return self.lead_time_unit.strip().lower() == "business"

    @property
    def lost_sales(self) -> bool:
        return self.backtest_lost_sales


@dg.definitions
def resources() -> dg.Definitions:
    settings = load_settings()
    return dg.Definitions(
        resources={
            "inventory_settings": InventorySettings(
                service_targets=settings.service_targets,
                order_rule=settings.order_rule,
                order_cost_brl=settings.order_cost_brl,
                holding_cost_rate=settings.holding_cost_rate,
                cover_days=settings.cover_days,
                lead_time_unit=settings.lead_time_unit,
                context_multiplier=settings.context_multiplier,
                context_factor_cap=settings.context_factor_cap,
                alert_watch_days=settings.alert_watch_days,
                backtest_lost_sales=settings.policy_backtest_lost_sales,
            )
        }
    )
