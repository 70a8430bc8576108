"""What a planner chooses for the stock policy: a service target per criticality class, the order
rule and the targets the service-stock curve is drawn at. Plain values, so the settings and the
command line parse and validate them without loading the policy's math (scipy)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Measure(StrEnum):
    CSL = "csl"
    FILL_RATE = "fill_rate"


@dataclass(frozen=True)
class ServiceTarget:
    measure: Measure
    level: float

    def __post_init__(self) -> None:
        if not 0.5 <= self.level < 1:
            raise ValueError(f"service level must be in [0.5, 1), got {self.level}")

    def __str__(self) -> str:
        return f"{self.measure}:{self.level:g}"


def parse_targets(text: str) -> dict[str, ServiceTarget]:
    """'A=csl:0.98,B=csl:0.95,C=fill_rate:0.95' -> target per criticality class (env-var format)."""
    targets = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            klass, spec = part.split("=", 1)
            measure, level = spec.split(":", 1)
            targets[klass.strip()] = ServiceTarget(Measure(measure.strip().lower()), float(level))
        except ValueError as exc:
            raise ValueError(f"bad service target {part!r} (expected CLASS=csl|fill_rate:LEVEL): {exc}") from exc
    if not targets:
        raise ValueError("no service target given")
    return targets


CURVE_TARGETS = (0.85, 0.90, 0.95, 0.98, 0.99)  # the service-stock curve's points


class OrderRule(StrEnum):
    EOQ = "eoq"  # S = s + EOQ (falls back to the cover when the unit cost is unknown)
    UP_TO = "up_to"  # S = s + mean demand over `cover_days`
