"""The days the synthetic sample business covers: `years` of history ending the day before the last
day of the recorded weather (the sample's demand follows that weather)."""

from datetime import date, timedelta


def sample_period(last_weather_day: date, years: int) -> tuple[date, date]:
    """(first day, last day) of the sample."""
    end = last_weather_day - timedelta(days=1)
    return date(end.year - years, end.month, end.day) + timedelta(days=1), end
