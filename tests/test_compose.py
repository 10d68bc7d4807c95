"""docker-compose.yml, the production-like way to run the shop, is a valid Compose file."""

import os
import shutil
import subprocess

import pytest

from tests.conftest import REPO_DIR


def compose_command():
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    pytest.skip("neither docker-compose nor the docker compose plugin is installed")


def run_config(*args, **env):
    return subprocess.run(
        [*compose_command(), "config", *args],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def test_compose_file_is_valid_and_runs_every_service():
    result = run_config("--services", SECRET_KEY="compose-test-secret")
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) >= {"web", "worker", "beat", "db", "redis"}


def test_compose_refuses_to_start_without_a_secret_key():
    env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    result = subprocess.run(
        [*compose_command(), "config", "-q"], cwd=REPO_DIR, capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
