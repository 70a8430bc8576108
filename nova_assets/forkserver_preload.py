"""Imported last by the cycle executor's forkserver (defs/automation/schedules.py): builds the
definitions and their repository once there, so every step process forked from it reuses them
instead of building them at its start (nova_assets.definitions.prebuilt)."""

import contextlib

import nova_assets.definitions as definitions

with contextlib.suppress(Exception):  # the forkserver must live on: a step builds them itself and reports it
    built = definitions.defs()
    built.get_repository_def()
    definitions.prebuilt = built
