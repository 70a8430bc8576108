"""Every setting of Nova Corrente, once: its environment variable, type, embedded-mode default and meaning.

Everything configurable is an environment variable, and this registry is the only place that names
one with its default. The rest is derived from it:

- `load_settings()` reads the variables (the environment wins over the embedded default; an empty
  value counts as unset), checks each against its type and fails with every bad one named, its value
  and what is accepted (`SettingsError`). `nova` calls it before it starts anything, the code
  location when it loads;
- `Settings.environment()` is what `nova` hands to Dagster's processes and writes to `.env`;
- the Dagster resources are bound from a loaded `Settings` (nova_assets/defs/**/resources.py);
- `configuration_table()` is the configuration table of docs/configuration.md (a test fails
  when the page is stale: regenerate it with `python -m nova_assets.settings > docs/configuration.md`).

One parser for yes/no values, `parse_flag`: 1/0, true/false, yes/no, on/off (any case); anything
else is an error, never silently "no".

Adding a setting is one entry in `SETTINGS` below: `Setting(name, default, description, kind)` in
the section it belongs to, then regenerate docs/configuration.md. Read it from a loaded `Settings`
(`settings.<name without NOVA_, lower case>`) or bind it to a resource field in the layer's
resources.py. A public API's base-URL setting comes with its endpoint
(`nova_assets/lib/sources/endpoints.py`), not from here.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, TypeAdapter, ValidationError

from nova_assets.lib.delivery.routing import load_routing
from nova_assets.lib.gold.connection import redact_url
from nova_assets.lib.inventory.choices import OrderRule, parse_targets
from nova_assets.lib.sources.endpoints import ENDPOINTS, SALVADOR_STATION, WEATHER_SOURCES
from nova_assets.lib.sources.erp_limits import ErpLimits, parse_limits
from nova_assets.lib.sources.holidays_calendar import parse_municipal
from nova_assets.lib.sources.http_policy import DEFAULT_POLICY

PROJECT_ROOT = Path(__file__).resolve().parents[1]

FLAG_TRUE = frozenset({"1", "true", "yes", "on"})
FLAG_FALSE = frozenset({"0", "false", "no", "off"})


def parse_flag(value: str | bool) -> bool:
    """The project's one yes/no parser: 1/0, true/false, yes/no, on/off in any case; else ValueError."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in FLAG_TRUE:
        return True
    if text in FLAG_FALSE:
        return False
    raise ValueError(f"{value!r} is not a yes/no value (1/0, true/false, yes/no, on/off)")


@dataclass(frozen=True)
class Kind:
    """A setting's type: what pydantic validates the text against, and how errors and docs say what is accepted."""

    annotation: Any
    accepted: str
    label: str  # the type column of the configuration table


def _checked(parse: Callable[[str], object]) -> Callable[[str], str]:
    """Keep the text, after the domain's own parser accepted it (the domain parses it again where used)."""

    def check(text: str) -> str:
        parse(text)
        return text

    return check


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise ValueError("not an http(s) URL")
    return text.rstrip("/")


def choice(*values: str) -> Kind:
    return Kind(
        Annotated[Literal[values], BeforeValidator(lambda v: str(v).strip().lower())],  # type: ignore[valid-type]
        " or ".join(values),
        "one of " + ", ".join(values),
    )


FLAG = Kind(Annotated[bool, BeforeValidator(parse_flag)], "1/0, true/false, yes/no or on/off", "yes/no")
TEXT = Kind(str, "text", "text")
SECRET_TEXT = Kind(str, "text", "secret")
WHOLE = Kind(Annotated[int, Field(ge=1)], "a whole number of at least 1", "whole number ≥ 1")
COUNT = Kind(Annotated[int, Field(ge=0)], "a whole number of at least 0", "whole number ≥ 0")
PORT = Kind(Annotated[int, Field(ge=1, le=65535)], "a TCP port (1-65535)", "port")
POSITIVE = Kind(Annotated[float, Field(gt=0)], "a number above 0", "number > 0")
AT_LEAST_ONE = Kind(Annotated[float, Field(ge=1)], "a number of at least 1", "number ≥ 1")
RATE = Kind(Annotated[float, Field(ge=0, le=1)], "a number from 0 to 1", "number 0..1")
DAY = Kind(date | None, "a date YYYY-MM-DD", "date")
PATH = Kind(Path, "a folder or file path (relative: under the project root)", "path")
LOCATION = Kind(str, "a folder (relative: under the project root) or an s3:// URL", "path or URL")
URL = Kind(Annotated[str, AfterValidator(_url)], "an http:// or https:// URL", "URL")
SERVICE_TARGETS = Kind(
    Annotated[str, AfterValidator(_checked(parse_targets))],
    "CLASS=csl:LEVEL or CLASS=fill_rate:LEVEL, comma-separated, levels in [0.5, 1)",
    "targets",
)
MUNICIPAL_DAYS = Kind(Annotated[str, AfterValidator(_checked(parse_municipal))], "'MM-DD Name; MM-DD Name'", "days")
ROUTING_FILE = Kind(Path, "a TOML routing file (relative: under the code checkout)", "path")
NON_NEGATIVE = Kind(Annotated[float, Field(ge=0)], "a number of at least 0", "number ≥ 0")
PLAUSIBLE_LIMITS = Kind(
    Annotated[str, AfterValidator(_checked(parse_limits))],
    "table.column=LOW..HIGH (either side may be empty) or table.column=none, separated by ';'",
    "ranges",
)


@dataclass(frozen=True)
class Setting:
    """One environment variable. `default` is the embedded-mode value as text ('' = unset)."""

    name: str
    default: str
    description: str
    kind: Kind = TEXT
    shown_default: str | None = None  # how the table states a default computed at start
    section: str = ""
    # never printed (a URL: without user, password, query); bound to Dagster resources with dg.EnvVar
    secret: bool = False

    @property
    def attribute(self) -> str:
        """Its attribute on `Settings`: NOVA_ dropped, lower case (MLFLOW_TRACKING_URI: mlflow_tracking_uri)."""
        return self.name.removeprefix("NOVA_").lower()


def _section(title: str, *settings: Setting) -> list[Setting]:
    return [Setting(**{**s.__dict__, "section": title}) for s in settings]


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        *_section(
            "Data and services",
            Setting("NOVA_DATA_DIR", "data", "root of all generated data (ignored by git)", PATH),
            Setting("NOVA_LAKE_DIR", "data/lake", "Parquet lake and DuckDB warehouse", PATH),
            Setting(
                "NOVA_LANDING_DIR",
                "data/landing",
                "drop ERP exports in `erp/`, ANATEL exports in `anatel/`, INMET yearly ZIPs in `inmet/`",
                PATH,
            ),
            Setting("NOVA_SNAPSHOT_DIR", "data/snapshots", "recorded API responses used offline", PATH),
            Setting(
                "NOVA_POSTGRES_URL",
                "",
                "gold database; when set, no local server is started",
                shown_default="project-local cluster",
                secret=True,
            ),
            Setting(
                "NOVA_DAGSTER_PG_URL",
                "",
                "Dagster instance storage (dagster-postgres)",
                shown_default="same server, database `dagster`",
                secret=True,
            ),
            Setting(
                "NOVA_PG_PORT",
                "",
                "port of the project-local PostgreSQL (127.0.0.1 only). Unset: the port remembered in "
                "`<NOVA_PG_DIR>.port`, else 55432 when free, else a free port, remembered at first start "
                "(a second checkout on the machine gets its own)",
                Kind(PORT.annotation | None, PORT.accepted + " (or empty: chosen at first start)", "port"),
                shown_default="55432 or a free port, remembered",
            ),
            Setting(
                "NOVA_PG_DIR",
                "data/postgres/main",
                "the project-local PostgreSQL cluster; its password is generated at initdb and kept in "
                "`<NOVA_PG_DIR>.password`. Run as root from a folder the `postgres` user cannot enter (a "
                "mode-700 home), the cluster's files live under the `postgres` user's home and this path "
                "is a link to them",
                PATH,
            ),
            Setting("DAGSTER_HOME", ".", "Dagster instance folder (the project's `dagster.yaml`)", PATH),
            Setting("NOVA_DAGSTER_STORAGE_DIR", "data/dagster/storage", "Dagster local artifact storage", PATH),
            Setting("NOVA_DAGSTER_COMPUTE_LOG_DIR", "data/dagster/logs", "Dagster compute logs", PATH),
            Setting(
                "NOVA_EXECUTOR",
                "multiprocess",
                "how the cycle's steps run: processes here, or `k8s` (one Kubernetes job per step, dagster-k8s; "
                "set by the Helm values); read when the code location loads",
                choice("multiprocess", "k8s"),
            ),
            Setting(
                "NOVA_DBT_TARGET",
                "duckdb",
                "target of the feature dbt project (`dbt_project/features/profiles.yml`)",
                choice("duckdb"),
            ),
        ),
        *_section(
            "Sources",
            Setting(
                "NOVA_OFFLINE",
                "1",
                "yes: the recorded snapshots; no: the live APIs (retries with backoff; on failure the last good "
                "answer from bronze, else the snapshot, with a warning and a failed `fresh` check)",
                FLAG,
            ),
            Setting(
                "NOVA_AS_OF_DATE",
                "",
                "the cycle's as-of date for the raw checks (future dates, freshness) and the live request range; "
                "empty: today in Salvador live, the snapshots' recording day (2025-11-11) offline",
                DAY,
            ),
            Setting(
                "NOVA_WEATHER_SOURCE",
                "open-meteo",
                "`inmet` reads the station from the INMET token API (needs `NOVA_INMET_TOKEN`; without it "
                "Open-Meteo is used, with a note in the metadata)",
                choice(*WEATHER_SOURCES),
            ),
            Setting("NOVA_INMET_TOKEN", "", "INMET API token (never logged)", SECRET_TEXT, secret=True),
            Setting("NOVA_INMET_STATION", SALVADOR_STATION, "INMET station"),
            Setting(
                "NOVA_INMET_HISTORY_DIR",
                "",
                "INMET yearly historical ZIPs (`YYYY.zip` from portal.inmet.gov.br); they rank before the API and "
                "Open-Meteo in `weather_daily`",
                Kind(Path | None, PATH.accepted, "path"),
                shown_default="`$NOVA_LANDING_DIR/inmet`",
            ),
            Setting(
                "NOVA_MUNICIPAL_HOLIDAYS",
                "",
                "municipal holidays, `MM-DD Name; MM-DD Name`",
                MUNICIPAL_DAYS,
                shown_default="Salvador's",
            ),
            *(
                Setting(
                    endpoint.setting,
                    endpoint.base_url,
                    f"base URL of {endpoint.title} (a mirror, or the tests' local server)",
                    URL,
                )
                for endpoint in ENDPOINTS
            ),
            Setting(
                "NOVA_HTTP_TIMEOUT_S",
                f"{DEFAULT_POLICY.timeout_s:g}",
                "live requests: timeout per request, s",
                POSITIVE,
            ),
            Setting("NOVA_HTTP_ATTEMPTS", str(DEFAULT_POLICY.attempts), "live requests: attempts per request", WHOLE),
            Setting(
                "NOVA_HTTP_BACKOFF_S",
                f"{DEFAULT_POLICY.backoff_initial_s:g}",
                "live requests: first backoff wait, s (doubling, capped at 30x)",
                POSITIVE,
            ),
        ),
        *_section(
            "ERP import",
            Setting(
                "NOVA_ERP_MAX_HELD_BACK_SHARE",
                f"{ErpLimits.max_held_back_share:g}",
                "share of an ERP table's rows a rule may hold back (unknown material, date out of range, implausible "
                "value) before its check blocks the table; the held-back rows are in the quarantine and load once "
                "the reason is gone",
                RATE,
            ),
            Setting(
                "NOVA_ERP_REPLACE_GAP_DAYS",
                str(ErpLimits.replace_gap_days),
                "a movements re-export without document numbers replaces nothing across a stretch of this many days "
                "without any of its rows; a date this far from every other date of its file is held back",
                WHOLE,
            ),
            Setting(
                "NOVA_ERP_MAX_REPLACED_RATIO",
                f"{ErpLimits.max_replaced_ratio:g}",
                "such a file may replace at most this many times the rows it brings (and 100) before the blocking "
                "check `replacement` keeps the previous table",
                POSITIVE,
            ),
            Setting(
                "NOVA_ERP_PLAUSIBLE_FACTOR",
                f"{ErpLimits.plausible_factor:g}",
                "a movement quantity above this many times its material's 99th percentile (30 rows of history or "
                "more) is held back; 0: off",
                NON_NEGATIVE,
            ),
            Setting(
                "NOVA_ERP_PLAUSIBLE_LIMITS",
                "",
                "plausible range per ERP column, e.g. `erp_movements.quantity=..50000; erp_sites.latitude=-20..-8`; "
                "a row outside is held back (data/README.md lists the built-in ranges)",
                PLAUSIBLE_LIMITS,
                shown_default="the built-in ranges",
            ),
        ),
        *_section(
            "Forecast and MLflow",
            Setting(
                "MLFLOW_TRACKING_URI",
                "sqlite:///{root}/mlflow/mlflow.db",
                "MLflow tracking store (`postgresql+psycopg2://…` for a server)",
                shown_default="`sqlite:///…/mlflow/mlflow.db`",
                secret=True,
            ),
            Setting(
                "NOVA_MLFLOW_ARTIFACT_ROOT", "mlflow/artifacts", "MLflow artifacts (a folder or `s3://…`)", LOCATION
            ),
            Setting("NOVA_MLFLOW_UI_URL", "http://127.0.0.1:5000", "used for the run links in asset metadata", URL),
            Setting("NOVA_FORECAST_HORIZON", "30", "forecast horizon in days", WHOLE),
            Setting(
                "NOVA_PARTITIONS_START",
                "",
                "first day of the daily partitions (`YYYY-MM-DD`); empty: the first movement day of the ERP history "
                "in the lake, or, before any ERP import, the first day of the synthetic sample; read when the code "
                "location loads (reload it after importing an older history)",
                DAY,
            ),
            Setting(
                "NOVA_BACKTEST_EVERY_DAYS",
                "14",
                "days between rolling-origin backtests of the forecast families and of the stock policy, on a "
                "fixed calendar from 2024-01-01 (with 7 or 14, each backtest ends on a Monday): the cycles in "
                "between refit only on all history, and the ensemble learns its weights and error quantiles on the "
                "kept backtest; the windows are about half a horizon apart, rounded to whole periods of this "
                "(14 days for the default 30-day horizon), so with 14 each backtest slides them by one, fitting one "
                "new window and keeping the others; 1: a new backtest every cycle",
                WHOLE,
            ),
            Setting(
                "NOVA_MATERIAL_GROUPS",
                "4",
                "material groups (hash buckets) the per-series forecast families fan out into: one step, process or "
                "pod, per group; read when the code location loads",
                WHOLE,
            ),
        ),
        *_section(
            "Inventory policy",
            Setting(
                "NOVA_SERVICE_TARGETS",
                "A=csl:0.98,B=csl:0.95,C=fill_rate:0.95",
                "service target per criticality class: cycle service level (csl) or fill rate",
                SERVICE_TARGETS,
            ),
            Setting(
                "NOVA_ORDER_RULE",
                OrderRule.EOQ.value,
                "order-up-to S = s + EOQ (eoq) or s + NOVA_COVER_DAYS of demand (up_to)",
                choice(*(rule.value for rule in OrderRule)),
            ),
            Setting("NOVA_ORDER_COST_BRL", "150", "cost of placing one purchase order line, BRL (EOQ)", POSITIVE),
            Setting(
                "NOVA_HOLDING_COST_RATE",
                "0.10",
                "yearly storage/insurance/obsolescence rate added to the SELIC (EOQ)",
                RATE,
            ),
            Setting(
                "NOVA_COVER_DAYS",
                "30",
                "days of demand ordered under the up_to rule (and without a unit cost)",
                POSITIVE,
            ),
            Setting(
                "NOVA_LEAD_TIME_UNIT",
                "calendar",
                "supplier lead times in calendar days, or business (holidays lengthen)",
                choice("calendar", "business"),
            ),
            Setting(
                "NOVA_CONTEXT_MULTIPLIER",
                "off",
                "on: the design's weather/5G multiplier on the project's safety stock",
                FLAG,
            ),
            Setting(
                "NOVA_CONTEXT_FACTOR_CAP",
                "1.5",
                "cap of any compounded context multiplier (the design's compound to 2.6)",
                AT_LEAST_ONE,
            ),
            Setting(
                "NOVA_ALERT_WATCH_DAYS", "7", "MÉDIO when the reorder point is reached within this many days", POSITIVE
            ),
            Setting(
                "NOVA_POLICY_BACKTEST_LOST_SALES",
                "0",
                "policy backtest: yes = unmet demand is lost, no = backordered",
                FLAG,
            ),
        ),
        *_section(
            "Alert delivery",
            Setting(
                "NOVA_ALERT_ROUTING_FILE",
                "nova_assets/lib/delivery/alert_routing.toml",
                "who receives which alert (TOML)",
                ROUTING_FILE,
                shown_default="`nova_assets/lib/delivery/alert_routing.toml` (in the code)",
            ),
            Setting(
                "NOVA_DELIVERY_MAX_ATTEMPTS",
                "8",
                "sends of one message before it is marked dead (kept in the log)",
                WHOLE,
            ),
            Setting(
                "NOVA_OPS_EMAIL",
                "",
                "who is e-mailed (through the SMTP settings) when any run fails, comma-separated; empty: the "
                "Dagster log only",
            ),
            Setting("NOVA_SMTP_HOST", "", "SMTP server; empty: the e-mail channel is skipped with a note"),
            Setting("NOVA_SMTP_PORT", "587", "SMTP port", PORT),
            Setting(
                "NOVA_SMTP_SECURITY",
                "starttls",
                "starttls, ssl or none (a local relay)",
                choice("starttls", "ssl", "none"),
            ),
            Setting("NOVA_SMTP_USER", "", "SMTP login (empty: no AUTH)"),
            Setting("NOVA_SMTP_PASSWORD", "", "SMTP password", SECRET_TEXT, secret=True),
            Setting("NOVA_SMTP_FROM", "", "sender address of the alert e-mails"),
            Setting(
                "NOVA_WHATSAPP_TOKEN",
                "",
                "WhatsApp Business Cloud API access token; empty: channel skipped",
                SECRET_TEXT,
                secret=True,
            ),
            Setting("NOVA_WHATSAPP_PHONE_NUMBER_ID", "", "sender phone-number id of the WhatsApp Business account"),
            Setting("NOVA_WHATSAPP_API_URL", "https://graph.facebook.com/v21.0", "Graph API base URL", URL),
            Setting("NOVA_WHATSAPP_TEMPLATE", "", "approved template name (one body parameter); empty: text messages"),
        ),
        *_section(
            "Gold layer",
            Setting(
                "NOVA_BI_PASSWORD",
                "",
                "password of the read-only BI role `nova_bi`; empty: the role stays NOLOGIN",
                SECRET_TEXT,
                secret=True,
            ),
            Setting(
                "NOVA_GOLD_FORECAST_RETENTION_DAYS",
                "365",
                "days of forecast cycles kept in `analytics.forecasts`; after each load, monthly partitions whose "
                "cycles are all older are dropped (`0` keeps all)",
                COUNT,
            ),
        ),
        *_section(
            "Web app and API",
            Setting("NOVA_WEB_HOST", "127.0.0.1", "address the web app (dashboard and `/api/v1`) listens on"),
            Setting("NOVA_WEB_PORT", "8000", "port of the web app", PORT),
            Setting(
                "NOVA_WEB_DIR",
                "data/web",
                "the web app's secrets, generated at first start (mode 0600): JWT signing key, API database password",
                PATH,
            ),
            Setting(
                "NOVA_API_POSTGRES_URL",
                "",
                "the API's least-privilege database login (a managed database); empty: role `nova_api` on the gold "
                "server, given LOGIN with a generated password through NOVA_POSTGRES_URL",
                shown_default="role `nova_api`, password generated",
                secret=True,
            ),
            Setting("NOVA_JWT_TTL_MINUTES", "30", "lifetime of an access token, minutes (sign in again after)", WHOLE),
            Setting(
                "NOVA_LOGIN_MAX_FAILURES",
                "5",
                "failed sign-ins of one user from one address within the window before refusal (429)",
                WHOLE,
            ),
            Setting("NOVA_LOGIN_WINDOW_MINUTES", "15", "window of the failed sign-in limit, minutes", WHOLE),
            Setting("NOVA_WEB_CORS_ORIGINS", "", "origins allowed by CORS, comma-separated; empty: CORS closed"),
            Setting(
                "NOVA_WEB_SECURE_COOKIES",
                "no",
                "yes: the session cookie is sent over HTTPS only (set it behind TLS)",
                FLAG,
            ),
            Setting(
                "NOVA_ADMIN_USERNAME",
                "",
                "first administrator, created at web-app start while no ADMIN exists (with NOVA_ADMIN_PASSWORD); "
                "or `nova users add NAME --role ADMIN`",
            ),
            Setting(
                "NOVA_ADMIN_PASSWORD",
                "",
                "its password, read only while no ADMIN exists; unset both afterwards (`nova` copies the settings "
                "into `.env` until then)",
                SECRET_TEXT,
                secret=True,
            ),
        ),
        *_section(
            "Synthetic sample",
            Setting("NOVA_SAMPLE_MATERIALS", "300", "materials in the synthetic sample business", WHOLE),
            Setting("NOVA_SAMPLE_SITES", "12", "sites in the synthetic sample business", WHOLE),
            Setting("NOVA_SAMPLE_YEARS", "3", "years of daily history in the synthetic sample", WHOLE),
        ),
    ]
}

# Written by `nova` from another setting, never set by hand: listed for the reader of `.env`.
DERIVED: dict[str, str] = {
    "NOVA_GOLD_PG_HOST": "the gold dbt project's profile (`dbt_project/gold/profiles.yml`), from NOVA_POSTGRES_URL",
    "NOVA_GOLD_PG_PORT": "likewise",
    "NOVA_GOLD_PG_USER": "likewise",
    "NOVA_GOLD_PG_PASSWORD": "likewise",
    "NOVA_GOLD_PG_DB": "likewise",
}


class SettingsError(ValueError):
    """Settings that cannot be used: one line per variable, with its value and what is accepted."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _shown(setting: Setting, text: str) -> str:
    if not text:
        return f"(unset: {setting.shown_default.replace('`', '')})" if setting.shown_default else "(empty)"
    if not setting.secret:
        return text
    return redact_url(text) if setting.name.endswith(("_URL", "_URI")) else "***"  # where, not who


@dataclass(frozen=True)
class Settings:
    """The resolved settings: `settings.<field>` is the typed value, `environment()` the text of each variable."""

    values: Mapping[str, Any]  # field -> typed value
    texts: Mapping[str, str] = field(repr=False)  # variable -> text (absolute paths), for child processes
    origins: Mapping[str, str] = field(repr=False)  # variable -> 'environment', 'override' or 'default'

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(f"no setting {name!r} (see nova_assets/settings.py)") from None

    def environment(self) -> dict[str, str]:
        """Every variable as text: what Dagster's processes get and `.env` holds."""
        return dict(self.texts)


def _resolve_path(value: Path, base: Path) -> Path:
    return value if value.is_absolute() else base / value


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    root: Path = PROJECT_ROOT,
    overrides: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve every setting: `overrides`, then `environ` (default: os.environ), then the embedded default.

    Relative paths are under `root` (the project, or a scratch folder of a test or bench), the routing
    file under the code checkout. Raises SettingsError naming every variable that does not parse.
    """
    environ = os.environ if environ is None else environ
    overrides = overrides or {}
    values: dict[str, Any] = {}
    texts: dict[str, str] = {}
    origins: dict[str, str] = {}
    problems: list[str] = []
    for setting in SETTINGS.values():
        text, origin = overrides.get(setting.name, ""), "override"
        if not text.strip():
            text, origin = environ.get(setting.name, ""), "environment"
        if not text.strip():
            text, origin = setting.default.format(root=root), "default"
        text = text.strip()
        try:
            value = TypeAdapter(setting.kind.annotation).validate_python(text if text else None)
        except ValidationError as exc:
            if text:
                reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
                detail = "" if setting.kind is FLAG else f" ({reason})"  # the flag's reason repeats what is accepted
                problems.append(
                    f"{setting.name} must be {setting.kind.accepted}, not {_shown(setting, text)!r}{detail}"
                )
                continue
            value = ""  # an empty text setting
        if isinstance(value, Path):
            value = _resolve_path(value, PROJECT_ROOT if setting.kind is ROUTING_FILE else root)
        if setting.kind is LOCATION and "://" not in str(value):
            value = str(_resolve_path(Path(value), root))
        values[setting.attribute] = value
        texts[setting.name] = _text(value)
        origins[setting.name] = origin
    if not problems:
        problems += _check_files(values)
    if problems:
        raise SettingsError(problems)
    return Settings(values, texts, origins)


@functools.cache
def embedded_defaults() -> Settings:
    """The embedded defaults alone (no environment), under the project root: what a resource built
    without a value gets."""
    return load_settings({})


def _check_files(values: Mapping[str, Any]) -> list[str]:
    """Settings naming a file whose content is configuration: read it now, not at the first alert."""
    try:
        load_routing(values["alert_routing_file"])
    except (OSError, ValueError) as exc:
        return [f"NOVA_ALERT_ROUTING_FILE={values['alert_routing_file']} cannot be used: {exc}"]
    return []


def describe(settings: Settings) -> list[tuple[str, str, str]]:
    """(variable, value, where it came from) for `nova settings`; secrets masked. An unset variable whose
    default is computed at start says what it then is (the configuration table's words), not just empty."""
    return [
        (s.name, _shown(s, settings.texts[s.name]), settings.origins[s.name])
        for s in SETTINGS.values()
        if s.name in settings.texts
    ]


def _default_cell(setting: Setting) -> str:
    if setting.shown_default is not None:
        return setting.shown_default
    if not setting.default:
        return "empty"
    return f"`{setting.default}`"


def configuration_table(settings: Iterable[Setting] | None = None) -> str:
    """The configuration page (docs/configuration.md), generated from the registry."""
    lines = [
        "# Configuration",
        "",
        "<!-- generated by `python -m nova_assets.settings > docs/configuration.md` from nova_assets/settings.py;"
        " edit the registry, not this page -->",
        "",
        "Every setting is an environment variable. `nova` (`make run`, `make ui`) resolves them: a variable set in",
        "your environment wins, an unset or empty one takes the embedded default below. The resolved values are",
        "handed to Dagster's processes and written to `.env` (mode 0600) for a `dagster` command run from the project",
        "root; there too a variable set in the environment wins over `.env`. A value that does not parse stops `nova`",
        "and the code location at start, naming the variable, the value and what is accepted. Yes/no settings accept",
        "1/0, true/false, yes/no and on/off.",
    ]
    section = None
    for setting in settings or SETTINGS.values():
        if setting.section != section:
            section = setting.section
            lines += [
                "",
                f"## {section}",
                "",
                "| variable | type | embedded default | meaning |",
                "| --- | --- | --- | --- |",
            ]
        lines.append(f"| `{setting.name}` | {setting.kind.label} | {_default_cell(setting)} | {setting.description} |")
    lines += ["", "## Derived (written by `nova`, not set by hand)", "", "| variable | meaning |", "| --- | --- |"]
    lines += [f"| `{name}` | {meaning} |" for name, meaning in DERIVED.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(configuration_table(), end="")
