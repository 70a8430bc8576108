"""The production deployment files (deploy/) hold together: they parse, point at each other and at
the code, pin what the project pins, and carry no credentials. Docker and Helm do not run here."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config

from deploy.check_helm_values import merged, schema_errors
from nova_assets.defs.automation.schedules import code_location_modules, cycle_executor, forkserver_preload_modules
from nova_assets.settings import DERIVED, PROJECT_ROOT, SETTINGS

DEPLOY = PROJECT_ROOT / "deploy"
PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
CONSTRAINTS = dict(
    line.split("==", 1) for line in (PROJECT_ROOT / "constraints.txt").read_text().splitlines() if "==" in line
)
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY")
INTERPOLATION = re.compile(r"\$\{(\w+)(:?[-?])?[^}]*\}")


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yaml").read_text())


def _helm() -> dict:
    return yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())


def _code_deployment() -> dict:
    (deployment,) = _helm()["dagster-user-deployments"]["deployments"]
    return deployment


def _documented_settings() -> set[str]:
    """The registry's settings (docs/configuration.md is generated from it) and the ones `nova` derives."""
    return set(SETTINGS) | set(DERIVED)


def _compose_environments() -> dict[str, dict[str, str]]:
    return {name: service.get("environment", {}) for name, service in _compose()["services"].items()}


def test_compose_services_and_workspace_point_at_the_code_server() -> None:
    services = _compose()["services"]
    assert {"postgres", "minio", "mlflow", "nova-code", "dagster-webserver", "dagster-daemon"} <= set(services)
    (location,) = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())["load_from"]
    server = location["grpc_server"]
    command = services[server["host"]]["command"]
    assert command[command.index("-p") + 1] == str(server["port"])
    assert command[command.index("-m") + 1] == PYPROJECT["tool"]["dagster"]["module_name"]
    assert command[command.index("--location-name") + 1] == server["location_name"]
    for ui in ("dagster-webserver", "dagster-daemon"):
        assert "nova-code" in services[ui]["depends_on"]
        assert any(v.startswith("./workspace.yaml:") for v in services[ui]["volumes"])


def _compose_spec_errors(path: Path) -> str:
    """check-jsonschema against the Compose Specification schema it ships (offline); '' when valid."""
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
    )
    return "" if result.returncode == 0 else result.stdout + result.stderr


def test_compose_file_is_valid_against_the_compose_specification(tmp_path: Path) -> None:
    compose = DEPLOY / "docker-compose.yaml"
    assert _compose_spec_errors(compose) == ""
    broken = tmp_path / "docker-compose.yaml"
    broken.write_text(compose.read_text().replace("    depends_on:", "    depends_onn:", 1))
    assert "depends_onn" in _compose_spec_errors(broken)


def test_compose_secrets_come_only_from_the_environment() -> None:
    required = set()
    for service, environment in _compose_environments().items():
        for name, value in environment.items():
            value = str(value)
            if SECRET_NAME.search(name) or re.search(r"://[^/@\s]+@", value):
                assert INTERPOLATION.search(value), f"{service}.{name} holds a literal credential"
            required |= {m.group(1) for m in INTERPOLATION.finditer(value) if m.group(2) == ":?"}
    example = {line.split("=", 1)[0] for line in (DEPLOY / "env.example").read_text().splitlines() if "=" in line}
    assert {"POSTGRES_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"} <= required
    assert required <= example, f"required by compose but not in env.example: {sorted(required - example)}"
    assert not [line for line in (DEPLOY / "env.example").read_text().splitlines() if re.match(r"^\w+=.+", line)]


def test_every_setting_the_deployment_sets_is_a_documented_one() -> None:
    documented = _documented_settings()
    named = set()
    for environment in _compose_environments().values():
        named |= {n for n in environment if n.startswith("NOVA_")}
    named |= {n for n in _code_deployment()["env"] if n.startswith("NOVA_")}
    assert named, "the deployment sets no NOVA_ setting"
    assert named <= documented, f"unknown settings (typo?): {sorted(named - documented)}"


def test_dockerfile_builds_the_locked_environment_and_serves_the_code_location() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    python = re.search(r"^FROM python:(\d+\.\d+)", dockerfile, re.M).group(1)
    assert f">={python}" in PYPROJECT["project"]["requires-python"]
    install = next(line for line in dockerfile.splitlines() if "pip install" in line)
    assert "-c constraints.txt" in install and '".[deploy]"' in install
    for source in re.findall(r"^COPY (\S+)", dockerfile, re.M):
        assert (PROJECT_ROOT / source).exists(), source
    assert f'"-m", "{PYPROJECT["tool"]["dagster"]["module_name"]}"' in dockerfile
    assert "EXPOSE 4000" in dockerfile and _code_deployment()["port"] == 4000


def test_deploy_extra_is_locked_and_matches_the_dagster_release() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]["deploy"]
    pins = dict(pin.split("==", 1) for pin in extras)
    assert {"dagster-k8s", "dagster-aws"} <= set(pins)
    for name, version in pins.items():
        assert CONSTRAINTS.get(name) == version, name
        assert version == CONSTRAINTS["dagster-postgres"], f"{name} must follow the dagster libraries' release"


def test_instance_config_validates_against_dagsters_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NOVA_DAGSTER_PG_URL", "NOVA_DAGSTER_STORAGE_DIR", "NOVA_DAGSTER_COMPUTE_LOG_DIR"):
        monkeypatch.setenv(name, "placeholder")
    config, _ = dagster_instance_config(str(PROJECT_ROOT))  # the image copies the project's dagster.yaml
    assert config["storage"]["postgres"]["postgres_url"] == {"env": "NOVA_DAGSTER_PG_URL"}
    assert "COPY dagster.yaml /opt/dagster/home/dagster.yaml" in (DEPLOY / "Dockerfile").read_text()


def test_helm_values_use_the_user_deployment_pattern_with_secrets_by_name() -> None:
    values = _helm()
    deployment = _code_deployment()
    assert deployment["codeServerArgs"] == ["-m", PYPROJECT["tool"]["dagster"]["module_name"]]
    assert deployment["env"]["NOVA_EXECUTOR"] == "k8s"
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert launcher["volumeMounts"] == deployment["volumeMounts"]  # run and step pods see the same lake
    assert values["postgresql"]["enabled"] is False and values["generatePostgresqlPasswordSecret"] is False
    assert "postgresqlPassword" not in values["postgresql"]
    assert _literal_credentials(values) == []


def _literal_credentials(node: object, path: str = "") -> list[str]:
    """Paths of keys named like a password/token/key that hold a value (secrets are referenced by name)."""
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            if re.search(r"(?i)password|token|access_?key", str(key)) and not isinstance(value, dict | list) and value:
                found.append(f"{path}/{key}")
            found += _literal_credentials(value, f"{path}/{key}")
        return found
    if isinstance(node, list):
        return [found for i, item in enumerate(node) for found in _literal_credentials(item, f"{path}/{i}")]
    return []


def test_executor_setting_selects_processes_or_kubernetes_jobs() -> None:
    from dagster_k8s import k8s_job_executor

    assert cycle_executor("multiprocess").name == dg.multiprocess_executor.name
    assert cycle_executor("k8s") is k8s_job_executor
    with pytest.raises(ValueError, match="NOVA_EXECUTOR"):
        cycle_executor("celery")


def test_forkserver_preload_leaves_a_step_nothing_heavy_to_import() -> None:
    """What a step process forked from the forkserver does: build the definitions from modules the
    forkserver imported. It must find every project module and model library already loaded."""
    probe = (
        "import importlib, sys\n"
        "from nova_assets.defs.automation.schedules import code_location_modules\n"
        "for name in code_location_modules(): importlib.import_module(name)\n"
        "before = set(sys.modules)\n"
        "sys.modules['nova_assets.definitions'].defs().resolve_job_def('daily_cycle')\n"
        "print('\\n'.join(sorted(set(sys.modules) - before)))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    heavy = ("nova_assets", "dagster_dbt", "dbt", "mlflow", "statsforecast", "prophet", "torch", "lightgbm", "xgboost")
    late = [name for name in result.stdout.split() if name.split(".")[0] in heavy]
    assert late == []
    assert "nova_assets.defs.forecast.families" in code_location_modules()


def test_the_forkserver_builds_the_definitions_before_it_forks_a_step() -> None:
    """The forkserver imports what forkserver_preload_modules lists, the definitions built last: a step
    forked from it gets them from `defs()` as built there (dagster-dbt's manifests of both dbt projects
    parsed) instead of building them again. A failure to build them there leaves the forkserver up (the
    step builds them itself and reports it)."""
    probe = (
        "import importlib\n"
        "from dagster_dbt.dbt_manifest import read_manifest_path\n"
        "from nova_assets.defs.automation.schedules import forkserver_preload_modules\n"
        "for name in forkserver_preload_modules(): importlib.import_module(name)\n"
        "import nova_assets.definitions as d\n"
        "print(read_manifest_path.cache_info().currsize, d.defs() is d.prebuilt is not None)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    assert result.stdout.split()[-2:] == ["2", "True"]
    assert forkserver_preload_modules()[-1] == "nova_assets.forkserver_preload"
    assert forkserver_preload_modules()[:-1] == code_location_modules()

    down = "import nova_assets.definitions as d\nd.defs = None\nimport nova_assets.forkserver_preload\nprint('up')\n"
    result = subprocess.run([sys.executable, "-c", down], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    assert result.stdout.split()[-1] == "up"


@pytest.mark.parametrize(("setting", "executor"), [("k8s", "k8s"), ("", "multiprocess")])
def test_daily_cycle_takes_its_executor_from_the_environment(setting: str, executor: str) -> None:
    """As in a code server started with the Helm values' env (a fresh interpreter: read at import)."""
    probe = "from nova_assets.defs.automation.schedules import daily_cycle; print(daily_cycle.executor_def.name)"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "NOVA_EXECUTOR": setting},
        cwd=PROJECT_ROOT,
    )
    assert result.stdout.strip() == executor


def test_helm_check_merges_chart_defaults_and_reports_schema_errors(tmp_path: Path) -> None:
    """The check script (run where the chart is at hand) on a stand-in chart with a tiny schema."""
    schema = {
        "type": "object",
        "properties": {
            "runLauncher": {"type": "object", "properties": {"type": {"enum": ["K8sRunLauncher"]}}},
            "resources": {"$ref": "https://kubernetesjsonschema.dev/v1.18.0/_definitions.json#/definitions/x"},
        },
        "required": ["telemetry"],
    }
    (tmp_path / "values.schema.json").write_text(json.dumps(schema))
    (tmp_path / "values.yaml").write_text("telemetry: {enabled: true}\nrunLauncher: {type: K8sRunLauncher, x: 1}\n")
    assert merged({"a": {"b": 1, "c": [1]}}, {"a": {"c": [2]}}) == {"a": {"b": 1, "c": [2]}}
    assert schema_errors({"runLauncher": {"type": "K8sRunLauncher"}, "resources": {}}, tmp_path) == []
    errors = schema_errors({"runLauncher": {"type": "Celery"}}, tmp_path)
    assert len(errors) == 1 and errors[0].startswith("runLauncher/type")
