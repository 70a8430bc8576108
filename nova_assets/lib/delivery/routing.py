"""Who hears about which alert, on which channel, from a TOML file (NOVA_ALERT_ROUTING_FILE).

An alert goes to the [default] recipients plus those of its material's category and of the site
at risk. A channel only carries alerts at or above its minimum severity (e-mail from ALTO,
WhatsApp from CRÍTICO unless configured otherwise).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from nova_assets.lib.inventory.alerts import Severity

CHANNELS = ("email", "whatsapp")
DEFAULT_MIN_SEVERITY = {"email": Severity.ALTO, "whatsapp": Severity.CRITICO}


@dataclass(frozen=True)
class Route:
    email: tuple[str, ...] = ()
    whatsapp: tuple[str, ...] = ()

    def of(self, channel: str) -> tuple[str, ...]:
        return getattr(self, channel)


@dataclass(frozen=True)
class Routing:
    default: Route = Route()
    categories: dict[str, Route] = field(default_factory=dict)
    sites: dict[str, Route] = field(default_factory=dict)
    min_severity: dict[str, Severity] = field(default_factory=lambda: dict(DEFAULT_MIN_SEVERITY))

    def recipients(self, channel: str, severity: Severity, category: str | None, site_id: str | None) -> list[str]:
        """Distinct recipients, in configuration order, or none below the channel's threshold."""
        if severity.rank < self.min_severity[channel].rank:
            return []
        routes = [self.default, self.categories.get(category or ""), self.sites.get(site_id or "")]
        seen: dict[str, None] = {}
        for route in routes:
            for recipient in route.of(channel) if route else ():
                seen.setdefault(recipient, None)
        return list(seen)


def _route(table: dict, where: str) -> Route:
    unknown = set(table) - set(CHANNELS)
    if unknown:
        raise ValueError(f"{where}: unknown channel(s) {sorted(unknown)}; use {', '.join(CHANNELS)}")
    return Route(**{channel: tuple(str(v).strip() for v in table.get(channel, ())) for channel in CHANNELS})


def parse_routing(text: str) -> Routing:
    data = tomllib.loads(text)
    minimum = dict(DEFAULT_MIN_SEVERITY)
    for channel, value in data.get("min_severity", {}).items():
        if channel not in CHANNELS:
            raise ValueError(f"min_severity: unknown channel {channel!r}")
        minimum[channel] = Severity(value)
    return Routing(
        default=_route(data.get("default", {}), "[default]"),
        categories={k: _route(v, f"[category.{k}]") for k, v in data.get("category", {}).items()},
        sites={k: _route(v, f"[site.{k}]") for k, v in data.get("site", {}).items()},
        min_severity=minimum,
    )


def load_routing(path: Path) -> Routing:
    return parse_routing(path.read_text(encoding="utf-8"))
