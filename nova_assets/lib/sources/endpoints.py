"""The public APIs the raw layer calls (name, real base URL, title), the weather sources and the INMET
station: the facts nova_assets.settings registers its source settings from.

Kept apart from the connectors (httpx, pandas) and the source registry (nova_assets.lib.sources.public),
so that reading the settings, which every `nova` command does, imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    """A public API: its base URL (the real one by default) and the setting that points it elsewhere."""

    name: str  # e.g. 'bacen_sgs'; the setting is NOVA_<NAME>_URL
    base_url: str
    title: str

    @property
    def setting(self) -> str:
        return f"NOVA_{self.name.upper()}_URL"


BACEN_SGS = Endpoint("bacen_sgs", "https://api.bcb.gov.br", "BACEN SGS")
BACEN_PTAX = Endpoint(
    "bacen_ptax", "https://olinda.bcb.gov.br/olinda/servico/PTAX/versao/v1/odata", "BACEN PTAX (Olinda OData)"
)
IBGE_SIDRA = Endpoint("ibge_sidra", "https://apisidra.ibge.gov.br", "IBGE SIDRA")
OPENMETEO = Endpoint("openmeteo", "https://archive-api.open-meteo.com", "the Open-Meteo archive")
INMET = Endpoint("inmet", "https://apitempo.inmet.gov.br", "the INMET token API")
ENDPOINTS = (BACEN_SGS, BACEN_PTAX, IBGE_SIDRA, OPENMETEO, INMET)

WEATHER_SOURCES = ("open-meteo", "inmet")  # NOVA_WEATHER_SOURCE
SALVADOR_STATION = "A401"  # the INMET station of Salvador (NOVA_INMET_STATION's default)
