"""Local time of the business: Salvador, Bahia (UTC-3, no daylight saving since 2012).

The daily partitions, the schedules, the sources' local days and the as-of date all use this zone.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

TIMEZONE_NAME = "America/Bahia"
TIMEZONE = ZoneInfo(TIMEZONE_NAME)


def today() -> date:
    """Today in Salvador."""
    return datetime.now(TIMEZONE).date()
