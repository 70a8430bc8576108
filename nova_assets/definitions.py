"""The code location: every definition under `defs/`, loaded by folder, one folder per layer."""

from pathlib import Path

import dagster as dg

# Set only in the cycle executor's forkserver (nova_assets.forkserver_preload): the definitions built
# there, which every step process forked from it reuses instead of building its own.
prebuilt: dg.Definitions | None = None


@dg.definitions
def defs() -> dg.Definitions:
    if prebuilt is not None:
        return prebuilt
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
