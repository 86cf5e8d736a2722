"""The README's Quick start: two commands, kept in step with .ci/run, working from a fresh clone."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from index.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands() -> list[str]:
    """The lines of the first fenced code block under `## Quick start`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```[^\n]*\n(.*?)```", section, re.S)
    assert block, "Quick start has no fenced code block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_has_exactly_two_commands() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2
    assert "bulletins demo" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start_commands()[1] in ci.splitlines()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting) -> None:
    assert f"`{setting.name}`" in (ROOT / "README.md").read_text(encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory) -> Path:
    """A clone of the committed project, as a new user gets it."""
    if os.environ.get("BULLETINS_IN_README_TEST"):
        pytest.skip("already inside the README test")
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    clone = tmp_path_factory.mktemp("clone") / "bulletin-search"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    return clone


def _clean_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"VIRTUAL_ENV", "CI", "PYTHONPATH"} and not key.startswith("BULLETINS_")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    env["BULLETINS_IN_README_TEST"] = "1"
    env.update(extra)
    return env


@pytest.mark.slow
def test_first_command_serves_the_demo_from_a_fresh_clone(fresh_clone: Path, tmp_path: Path) -> None:
    port = _free_port()
    env = _clean_env(BULLETINS_PORT=str(port))
    log = tmp_path / "demo.log"
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(["bash", "-c", quick_start_commands()[0]], cwd=fresh_clone, env=env,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            page = _wait_for_page(f"http://127.0.0.1:{port}/search?q=%E6%96%87%E6%98%8E", process)
        finally:
            os.killpg(process.pid, 9)
            process.wait()
    assert page is not None, f"the demo never answered:\n{log.read_text(encoding='utf-8')[-3000:]}"
    assert "<mark>" in page


def _wait_for_page(url: str, process: subprocess.Popen, seconds: float = 600) -> str | None:
    """The page at `url` once the server answers, or None if the process ends or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode("utf-8")
        except OSError:
            time.sleep(2)
    return None


@pytest.mark.slow
def test_second_command_runs_tests_from_a_fresh_clone(fresh_clone: Path) -> None:
    env = _clean_env(PYTEST_ADDOPTS="-q tests/test_analysis.py")
    result = subprocess.run(["bash", "-c", quick_start_commands()[1]], cwd=fresh_clone, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert re.search(r"\d+ passed", result.stdout)
