"""Validate deploy/helm/values.yaml against the dagster/dagster chart's own values.schema.json.

The chart is not part of this repository and no cluster or chart repository is reachable from the
build machine, so this is a script to run where the chart is at hand:

    helm pull dagster/dagster --version 1.13.27 --untar --untardir /tmp/chart
    python deploy/check_helm_values.py /tmp/chart/dagster

As Helm does, our values are merged over the chart's defaults (values.yaml) before validation.
The schema's references to the Kubernetes definitions (kubernetesjsonschema.dev) are dropped offline
(the sibling "type" still applies): Kubernetes objects (volumes, resources, probes) are checked by the API server
at install time, everything Dagster-specific is checked here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

VALUES = Path(__file__).resolve().parent / "helm" / "values.yaml"


def merged(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Helm's merge: maps merge key by key, anything else (lists included) is replaced."""
    out = dict(defaults)
    for key, value in overrides.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def without_remote_refs(schema: Any) -> Any:
    """The schema with every reference outside the file dropped (its sibling keywords still apply)."""
    if isinstance(schema, dict):
        return {
            key: without_remote_refs(value)
            for key, value in schema.items()
            if not (key == "$ref" and isinstance(value, str) and not value.startswith("#"))
        }
    if isinstance(schema, list):
        return [without_remote_refs(item) for item in schema]
    return schema


def schema_errors(values: dict[str, Any], chart_dir: Path) -> list[str]:
    """Every schema violation of `values` merged over the chart defaults, as 'path: message'."""
    schema = without_remote_refs(json.loads((chart_dir / "values.schema.json").read_text()))
    defaults = yaml.safe_load((chart_dir / "values.yaml").read_text()) or {}
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(merged(defaults, values))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chart_dir", type=Path, help="the untarred dagster chart (values.yaml, values.schema.json)")
    parser.add_argument("--values", type=Path, default=VALUES)
    args = parser.parse_args(argv)
    errors = schema_errors(yaml.safe_load(args.values.read_text()), args.chart_dir)
    for error in errors:
        print(error)
    print(f"{args.values}: {'valid' if not errors else f'{len(errors)} error(s)'} against {args.chart_dir}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
