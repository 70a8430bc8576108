"""Request and response bodies of the API (pydantic): the OpenAPI document at /docs is built from them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, Field, model_validator

from nova_assets.lib.platform import calculators
from nova_assets.lib.platform.errors import Invalid
from nova_assets.lib.platform.users import Role

Text = Annotated[str | None, Query(max_length=200)]  # a free-text or id filter of a list, API and pages alike


class PageOut(BaseModel):
    """A page of a list: the rows, the total matching the filters, and the cycle they come from."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
    cycle_date: date | None = None
    note: str | None = None


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class UserOut(BaseModel):
    username: str
    role: Role
    active: bool
    created_at: datetime
    created_by: str
    last_login_at: datetime | None = None
    disabled_at: datetime | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    user: UserOut


class MeOut(BaseModel):
    user: UserOut
    expires_at: datetime
    csrf_token: str = Field(description="send as X-CSRF-Token on writes authenticated by the dashboard cookie")


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=63)
    role: Role
    password: str = Field(min_length=10, max_length=1000)


class UserPageOut(PageOut):
    """A page of users (ADMIN)."""

    items: list[UserOut]


class UserActiveIn(BaseModel):
    active: bool


class AlertActionIn(BaseModel):
    comment: str = Field(default="", max_length=2000)


class AlertStatusOut(BaseModel):
    cycle_date: date
    material_id: str
    status: str
    comment: str
    by: str
    at: datetime


class OverrideIn(BaseModel):
    material_id: str = Field(min_length=1, max_length=200)
    kind: Literal["reorder_point", "forecast"]
    value: float = Field(
        ge=0,
        allow_inf_nan=False,
        description="units (reorder_point) or units per day (forecast), at most the ERP import's plausible"
        " quantity limit (NOVA_ERP_PLAUSIBLE_LIMITS for erp_stock.on_hand and erp_movements.quantity;"
        " 1,000,000 by default): a larger value is refused with a 422 naming the limit",
    )
    reason: str = Field(min_length=1, max_length=2000)
    expires_on: date


class ReorderPointIn(BaseModel):
    mean_daily: float = Field(ge=0, description="expected demand per day")
    sigma_daily: float = Field(ge=0, description="standard deviation of the daily forecast error")
    lead_time_days: float = Field(ge=0)
    lead_time_std_days: float = Field(default=0, ge=0)
    service_measure: Literal["csl", "fill_rate"] = "csl"
    service_level: float = Field(default=0.95, ge=0.5, lt=1)
    order_quantity: float = Field(
        default=0, ge=0, description="the lot (the cycle uses the EOQ); a fill-rate target needs it > 0"
    )
    review_days: float = Field(default=1, ge=0)

    @model_validator(mode="after")
    def _fill_rate_needs_a_lot(self) -> ReorderPointIn:
        try:
            calculators.check_lot(self.service_measure, self.order_quantity)  # a 422 with the domain's reason
        except Invalid as exc:
            raise ValueError(str(exc)) from exc
        return self


class EoqIn(BaseModel):
    mean_daily: float = Field(ge=0)
    unit_cost: float = Field(ge=0)
    order_cost: float | None = Field(default=None, ge=0, description="default: the cycle's NOVA_ORDER_COST_BRL")
    selic_percent: float = Field(default=15, ge=0)
    holding_rate: float | None = Field(default=None, ge=0, description="default: the cycle's NOVA_HOLDING_COST_RATE")


class BaselineIn(BaseModel):
    mean_daily: float = Field(ge=0)
    sigma_daily: float = Field(ge=0)
    lead_time_days: float = Field(ge=0)
    context_factor: float = Field(default=1.0, gt=0)


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    database: bool
    version: str
    last_cycle_date: date | None = None
    data_as_of: date | None = None
    data_is_stale: bool | None = None
    stale_sources: str | None = None
    schema_version: int | None = None
    last_load_at: datetime | None = None
    failed_loads_last_day: int | None = None
    data: str | None = Field(None, description="what the latest cycle's gold rows are built from")
    synthetic: bool | None = Field(
        None, description="the latest cycle's figures come, wholly or in part, from the generated sample"
    )
