"""docker-compose.yaml and the Dockerfile, checked for structure (Docker itself is not available here).

What a `docker compose up` would trip over is checked statically: the services of Airflow's official Celery
layout, each long-running one with a healthcheck, start order through depends_on conditions that can be met,
one image built from the Dockerfile, CeleryExecutor on PostgreSQL and Redis, the state store in PostgreSQL,
connections taken from the environment, and the sandbox only behind its profile. Where Debian's docker-compose
(1.29) is installed, it parses and interpolates the file too (ci/celery_run.sh installs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = {
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
}
LONG_RUNNING = AIRFLOW_SERVICES - {"airflow-init"}


@pytest.fixture(scope="module")
def compose() -> dict:
    # PyYAML resolves the anchors and `<<` merge keys, as Compose does.
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _dockerfile_stages() -> dict[str, str]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    """Build stage name -> the image it starts from."""
    return {stage: base for base, stage in re.findall(r"^FROM\s+(\S+)\s+AS\s+(\S+)", text, re.M | re.I)}


def test_the_official_celery_layout_is_there(services):
    assert {"postgres", "redis"} | AIRFLOW_SERVICES <= set(services)
    commands = {name: services[name].get("command") for name in LONG_RUNNING}
    assert commands == {
        "airflow-apiserver": "api-server",
        "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer",
        "airflow-worker": "celery worker",
    }


def test_only_the_sandbox_hides_behind_a_profile(services):
    assert services["sandbox"]["profiles"] == ["sandbox"]
    assert [name for name, svc in services.items() if "profiles" in svc] == ["sandbox"]


def test_every_airflow_service_runs_the_image_built_from_the_dockerfile(services):
    stages = _dockerfile_stages()
    images = {services[name]["image"] for name in AIRFLOW_SERVICES}
    assert len(images) == 1, "one tag, so the image is built once and shared"
    for name in AIRFLOW_SERVICES:
        build = services[name]["build"]
        assert build["context"] == "." and build["target"] in stages
    assert services["sandbox"]["build"]["target"] in stages


def test_the_image_starts_from_the_airflow_release_the_constraints_pin():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    version = re.search(r"^ARG AIRFLOW_VERSION=(\S+)", text, re.M)[1]
    pin = re.search(r"^apache-airflow==(\S+)$", (ROOT / "constraints.txt").read_text(encoding="utf-8"), re.M)[1]
    assert version == pin
    assert _dockerfile_stages()["airflow"] == "apache/airflow:${AIRFLOW_VERSION}"
    # pip must not move the image's Airflow while installing the project.
    installs = re.findall(r"^RUN pip install .*$", text, re.M)
    assert installs and all('"apache-airflow==${AIRFLOW_VERSION}"' in line for line in installs)
    assert all("-c /opt/focus-twinfield/constraints.txt" in line for line in installs)


def test_dockerfile_copies_only_what_exists_and_is_not_ignored():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for line in re.findall(r"^COPY\s+(.*)$", (ROOT / "Dockerfile").read_text(encoding="utf-8"), re.M):
        *sources, _dest = [part for part in line.split() if not part.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), source
            assert source.rstrip("/").split("/")[0] not in ignored, source


def test_airflow_runs_celery_on_postgres_and_redis(services):
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert "@postgres/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "@redis:6379" in env[
            "AIRFLOW__CELERY__BROKER_URL"
        ]
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql")
        # Tasks reach the API server by its service name; all components share one JWT secret.
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET:?")


def test_the_state_store_is_its_own_postgres_database(services):
    env = services["airflow-worker"]["environment"]
    state = "postgresql://airflow:airflow@postgres:5432/focus_twinfield"
    assert env["AIRFLOW_CONN_FOCUS_TWINFIELD_STATE"] == state
    init_scripts = [v.split(":") for v in services["postgres"]["volumes"] if "/docker-entrypoint-initdb.d/" in v]
    statements = [
        line
        for source, _target, _mode in init_scripts
        for line in (ROOT / source).read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("--")
    ]
    assert statements == ["CREATE DATABASE focus_twinfield;"]


def test_service_connections_come_from_the_environment(services):
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        for conn in ("AIRFLOW_CONN_TEAMLEADER_FOCUS_DEFAULT", "AIRFLOW_CONN_TWINFIELD_DEFAULT"):
            # Required: compose refuses to start without them rather than running with no credentials.
            assert env[conn].startswith("${" + conn + ":?"), (name, conn)


def test_long_running_services_have_healthchecks_and_restart(services):
    for name in LONG_RUNNING | {"postgres", "redis", "sandbox"}:
        check = services[name]["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL") and check["interval"] and check["retries"], name
        assert services[name]["restart"] == "always", name


def test_start_order_can_be_met(services):
    for name, svc in services.items():
        for dep, spec in svc.get("depends_on", {}).items():
            assert dep in services, f"{name} waits for unknown service {dep}"
            assert "profiles" not in services[dep], f"{name} would wait for {dep}, which only starts in a profile"
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep} to be healthy; it has no check"
            if spec["condition"] == "service_completed_successfully":
                assert "restart" not in services[dep], f"{dep} must run once and exit"
    for name in LONG_RUNNING:
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == deps["redis"]["condition"] == "service_healthy", name
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"


def test_init_migrates_and_creates_the_admin_then_checks_the_provider(services):
    init = services["airflow-init"]
    assert init["user"] == "0:0"
    assert init["environment"]["_AIRFLOW_DB_MIGRATE"] == "true"
    assert init["environment"]["_AIRFLOW_WWW_USER_CREATE"] == "true"
    assert "airflow providers get focus-twinfield" in init["command"][-1]


def test_volumes_are_declared_and_logs_are_shared(compose, services):
    declared = set(compose["volumes"])
    for name, svc in services.items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} binds missing {source}"
            else:
                assert source in declared, f"{name} mounts undeclared volume {source}"
    assert all("airflow-logs:/opt/airflow/logs" in services[name]["volumes"] for name in AIRFLOW_SERVICES)


def test_the_mapping_config_is_where_the_workers_look(services):
    env = services["airflow-worker"]["environment"]
    mounted = {v.split(":")[1]: v.split(":")[0] for v in services["airflow-worker"]["volumes"]}
    config = Path(env["FOCUS_TWINFIELD_CONFIG"])
    assert (ROOT / mounted[str(config.parent)] / config.name).is_file()


def test_several_workers_and_a_single_published_ui(services):
    assert services["airflow-worker"]["deploy"]["replicas"] == "${AIRFLOW_WORKERS:-2}"
    published = {name: svc["ports"] for name, svc in services.items() if "ports" in svc}
    assert published == {"airflow-apiserver": ["8080:8080"], "sandbox": ["127.0.0.1:8765:8765"]}


# -- the local trial: deploy/sandbox.env against the sandbox service ------------------------------------------


def _env_file(path: Path) -> dict[str, str]:
    """A Compose .env file: NAME=value lines; single quotes keep a value literal (the JSON connections)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value[1:-1] if value.startswith("'") and value.endswith("'") else value
    return values


def _interpolate(value, env: dict[str, str]):
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} in every string of the parsed file (as Compose does:
    after parsing, so a substituted JSON value stays a string); a required variable left unset raises."""
    if isinstance(value, dict):
        return {k: _interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        name, op, arg = match[1], match[2], match[3]
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name} is required: {arg}")
        return arg if op == ":-" else ""

    return re.sub(r"(?<!\$)\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, value)


@pytest.fixture(scope="module")
def trial_env() -> dict[str, str]:
    return _env_file(ROOT / "deploy" / "sandbox.env")


def test_the_trial_env_file_sets_every_required_variable(compose, trial_env):
    # Raises on the first ${VAR:?...} that the trial's .env leaves unset.
    resolved = _interpolate(compose, trial_env)
    assert resolved["services"]["airflow-worker"]["environment"]["AIRFLOW_CONN_TWINFIELD_DEFAULT"].startswith("{")
    assert trial_env["COMPOSE_PROFILES"] == "sandbox"


def test_the_trial_connections_are_what_the_sandbox_service_hands_out(compose, trial_env):
    from sandbox.server import Sandbox, SandboxConfig

    resolved = _interpolate(compose, trial_env)
    flags = dict(arg[2:].split("=", 1) for arg in resolved["services"]["sandbox"]["command"][1:])
    sandbox = Sandbox(
        SandboxConfig(
            invoices=1,
            focus_refresh_token=flags["focus-refresh-token"],
            twinfield_refresh_token=flags["twinfield-refresh-token"],
        )
    )
    expected = sandbox.connections(flags["public-url"])
    for name, value in expected.items():
        assert json.loads(trial_env[name]) == json.loads(value), name
        # ...and every Airflow service receives them.
        assert json.loads(resolved["services"]["airflow-scheduler"]["environment"][name]) == json.loads(value)


def test_the_sandbox_cli_accepts_the_services_flags(services):
    usage = subprocess.run(
        [sys.executable, "-m", "sandbox", "serve", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert services["sandbox"]["entrypoint"] == ["python", "-m", "sandbox"]
    for arg in services["sandbox"]["command"][1:]:
        assert arg.split("=")[0] in usage, arg


@pytest.mark.skipif(
    not shutil.which("docker-compose"), reason="needs Debian's docker-compose (ci/celery_run.sh installs it)"
)
def test_docker_compose_itself_accepts_the_file(tmp_path):
    # Debian's docker-compose 1.29 (the Python implementation; no Docker daemon needed for `config`) checks the
    # file against the Compose schema and interpolates it as Compose does.
    ours = ("AIRFLOW", "_AIRFLOW", "COMPOSE", "SANDBOX")  # variables the file reads: from the env file only
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ours)}

    def config(env_file: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["docker-compose", "--env-file", str(env_file), "config", "-q"],
            cwd=ROOT, env=clean, capture_output=True, text=True,
        )

    accepted = config(ROOT / "deploy" / "sandbox.env")
    assert accepted.returncode == 0, accepted.stderr
    empty = tmp_path / "empty.env"
    empty.write_text("")
    refused = config(empty)  # no connections, no JWT secret: refused before anything starts
    assert refused.returncode != 0 and "set AIRFLOW_JWT_SECRET in .env" in refused.stderr


def test_the_package_the_image_installs_carries_every_file_of_twinfield(tmp_path):
    # The Dockerfile installs the project as a wheel (not editable, as here) from what it copies: SQL, migrations
    # and other data files must be in it, or the image's state store has no schema.
    source = tmp_path / "src"
    source.mkdir()
    for line in re.findall(r"^COPY\s+(.*)$", (ROOT / "Dockerfile").read_text(encoding="utf-8"), re.M):
        *sources, dest = [part for part in line.split() if not part.startswith("--")]
        if not dest.startswith("/opt/focus-twinfield/"):
            continue
        for name in sources:
            target = source / dest.removeprefix("/opt/focus-twinfield/")
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / name, target / Path(name).name)
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(source)]
    subprocess.run(build, check=True, capture_output=True)
    (wheel,) = tmp_path.glob("focus_twinfield-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = {name for name in archive.namelist() if name.startswith("twinfield/")}
    expected = {
        "twinfield/" + path.relative_to(folder).as_posix()
        for folder in (ROOT / "plugins" / "twinfield",)
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    } | {
        "twinfield/sql/" + path.relative_to(ROOT / "include" / "sql").as_posix()
        for path in (ROOT / "include" / "sql").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert expected - packaged == set()


def test_every_package_under_plugins_is_declared():
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {
        ".".join(("twinfield", *init.parent.relative_to(ROOT / "plugins" / "twinfield").parts))
        for init in (ROOT / "plugins" / "twinfield").rglob("__init__.py")
    }
    assert found | {"twinfield.sql"} == declared
