"""Imported last by the cycle executor's forkserver (defs/automation/schedules.py): builds the
definitions once there, so every step process forked from it starts with dagster-dbt's parsed
manifests and Dagster's caches warm instead of building them cold at each step's start."""

import contextlib

from nova_assets.definitions import defs

with contextlib.suppress(Exception):  # the forkserver must live on: a step builds them again and reports it
    defs()
