"""Inventory policy settings, every one from an env var (defaults in services.local_stack)."""

import dagster as dg

from nova_assets.lib.inventory.policy import OrderRule, PolicySettings
from nova_assets.lib.inventory.service import parse_targets


class InventorySettings(dg.ConfigurableResource):
    """Service targets per criticality class, order rule and costs, lead-time unit, context cap."""

    service_targets: str
    order_rule: str = "eoq"
    order_cost_brl: str = "150"
    holding_cost_rate: str = "0.10"
    cover_days: str = "30"
    lead_time_unit: str = "calendar"
    context_multiplier: str = "off"
    context_factor_cap: str = "1.5"
    alert_watch_days: str = "7"
    backtest_lost_sales: str = "0"

    @property
    def policy(self) -> PolicySettings:
        return PolicySettings(
            targets=parse_targets(self.service_targets),
            order_rule=OrderRule(self.order_rule.strip().lower()),
            cover_days=float(self.cover_days),
            order_cost_brl=float(self.order_cost_brl),
            context_multiplier=_flag(self.context_multiplier),
            context_cap=float(self.context_factor_cap),
        )

    @property
    def business_days(self) -> bool:
        unit = self.lead_time_unit.strip().lower()
        if unit not in {"business", "calendar"}:
            raise ValueError(f"NOVA_LEAD_TIME_UNIT must be 'business' or 'calendar', not {unit!r}")
        return unit == "business"

    @property
    def lost_sales(self) -> bool:
        return _flag(self.backtest_lost_sales)


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "on", "true", "yes"}


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "inventory_settings": InventorySettings(
                service_targets=dg.EnvVar("NOVA_SERVICE_TARGETS"),
                order_rule=dg.EnvVar("NOVA_ORDER_RULE"),
                order_cost_brl=dg.EnvVar("NOVA_ORDER_COST_BRL"),
                holding_cost_rate=dg.EnvVar("NOVA_HOLDING_COST_RATE"),
                cover_days=dg.EnvVar("NOVA_COVER_DAYS"),
                lead_time_unit=dg.EnvVar("NOVA_LEAD_TIME_UNIT"),
                context_multiplier=dg.EnvVar("NOVA_CONTEXT_MULTIPLIER"),
                context_factor_cap=dg.EnvVar("NOVA_CONTEXT_FACTOR_CAP"),
                alert_watch_days=dg.EnvVar("NOVA_ALERT_WATCH_DAYS"),
                backtest_lost_sales=dg.EnvVar("NOVA_POLICY_BACKTEST_LOST_SALES"),
            )
        }
    )
