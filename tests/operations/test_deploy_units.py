"""deploy/: the systemd units pass ``systemd-analyze verify`` (deploy/verify.sh, also run by
.ci/run), the server started with the unit's own command line stops as the unit expects, and
the environment file example names only settings that exist and passes ``check --deploy``."""

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.server import TEST_SERVER, free_port, sqlite_copy_of_migrated_template

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = ROOT / "deploy"
SERVER_UNIT = DEPLOY / "imserver@.service"
ENV_EXAMPLE = DEPLOY / "imserver.env.example"
ANALYZE = shutil.which("systemd-analyze") or (
    "/usr/bin/systemd-analyze" if os.access("/usr/bin/systemd-analyze", os.X_OK) else None
)
needs_systemd_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is not installed (Debian: apt-get install systemd)"
)


def unit_settings(path: Path) -> dict[str, list[str]]:
    """``Section.Key`` -> every value it is given, in order (systemd keys may repeat)."""
    settings: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return settings


def env_example() -> dict[str, tuple[str, bool]]:
    """Every variable of the example: name -> (value, set), where ``set`` is False for the
    commented-out ones (``# NAME=value``)."""
    variables: dict[str, tuple[str, bool]] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.fullmatch(r"(# )?([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            variables[match[2]] = (match[3], match[1] is None)
    return variables


def run_verify(deploy: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(deploy / "verify.sh")],
        env={**os.environ, "IMSERVER_PYTHON": sys.executable, "SYSTEMD_ANALYZE": str(ANALYZE)},
        capture_output=True,
        text=True,
        timeout=60,
    )


@needs_systemd_analyze
def test_units_pass_systemd_analyze_verify():
    result = run_verify(DEPLOY)
    assert result.returncode == 0, result.stdout + result.stderr
    for unit in (
        "imserver@8081.service",
        "imserver.target",
        "imserver-purge-files.timer",
        "imserver-purge-tokens.timer",
    ):
        assert unit in result.stdout


@needs_systemd_analyze
def test_verify_fails_on_a_misspelt_setting_and_a_missing_program(tmp_path):
    # systemd-analyze itself only warns about an unknown key; verify.sh fails on it.
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    unit = copy / "imserver@.service"
    text = unit.read_text()
    unit.write_text(text.replace("KillMode=mixed", "KillMod=mixed"))
    result = run_verify(copy)
    assert result.returncode != 0
    assert "KillMod" in result.stderr

    unit.write_text(text.replace("/.venv/bin/python -m", "/.venv/bin/no-such-python -m"))
    result = run_verify(copy)
    assert result.returncode != 0
    assert "no-such-python" in result.stderr


def test_timers_start_the_commands_that_exist():
    from django.core.management import get_commands

    commands = get_commands()
    timers = {"purge-files": "purge_expired_files", "purge-tokens": "purge_expired_tokens"}
    for name, command in timers.items():
        service = unit_settings(DEPLOY / f"imserver-{name}.service")
        assert service["Service.ExecStart"][0].endswith(f"manage.py {command}")
        assert command in commands
        timer = unit_settings(DEPLOY / f"imserver-{name}.timer")
        assert timer["Timer.OnCalendar"] and timer["Timer.Persistent"] == ["true"]
    # simplejwt's own command is installed too (the token blacklist app); the timer runs the
    # project's batched one instead (docs/security.md).
    assert "flushexpiredtokens" in commands


def test_server_unit_is_hardened_and_raises_the_file_limit():
    unit = unit_settings(SERVER_UNIT)
    assert int(unit["Service.LimitNOFILE"][0]) >= 65536
    for key, value in {
        "User": "imserver",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "Restart": "on-failure",
        "EnvironmentFile": "/etc/imserver/imserver.env",
    }.items():
        assert unit[f"Service.{key}"] == [value], key
    assert "imserver/media" in unit["Service.StateDirectory"][0]


def test_env_example_names_only_settings_that_exist():
    settings_source = (ROOT / "imserver" / "settings.py").read_text()
    exec_start = unit_settings(SERVER_UNIT)["Service.ExecStart"][0]
    variables = env_example()
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "IM_MEDIA_ROOT"):
        assert variables[name][1], f"{name} is not set in the example"
    assert "IM_MAX_UPLOAD_BYTES" in variables and "IM_STORAGE" in variables
    for name in variables:
        known = f'"{name}"' in settings_source or "${" + name + "}" in exec_start
        assert known, f"{name} is read neither by imserver/settings.py nor by the unit"


def test_env_example_passes_check_deploy():
    """The example's values (with a real secret) are production settings Django accepts."""
    variables = env_example()
    env = {key: value for key, value in os.environ.items() if key not in variables}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update({name: value for name, (value, is_set) in variables.items() if is_set})
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(child) for child in text.split()]


def test_server_started_as_the_unit_starts_it_serves_and_stops_on_its_kill_signal(tmp_path):
    """The unit's ExecStart (paths and variables filled in) serves; its KillSignal sent to the
    main process alone (KillMode=mixed) stops every worker and exits 0 well within
    TimeoutStopSec, so systemd neither kills it nor counts a failure."""
    unit = unit_settings(SERVER_UNIT)
    assert unit["Service.KillMode"] == ["mixed"]
    kill_signal = getattr(signal, unit["Service.KillSignal"][0])
    timeout_stop = float(unit["Service.TimeoutStopSec"][0])
    port = free_port()
    command = (
        unit["Service.ExecStart"][0]
        .replace("/opt/imserver/.venv/bin/python", sys.executable)
        .replace("${IM_SERVER}", TEST_SERVER)
        .replace("${IM_WORKERS}", "2")
        .replace("${IM_HOST}", "127.0.0.1")
        .replace("%i", str(port))
        .split()
    )
    database = tmp_path / "server.sqlite3"
    sqlite_copy_of_migrated_template(database)
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{database}",
        "IM_MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.pop("REDIS_URL", None)  # /livez alone: two workers need no shared layer for it
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=2) as reply:
                    assert reply.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer /livez"
                time.sleep(0.2)
        workers = _children(server.pid)
        assert len(workers) == 2
        for worker in workers:
            cmdline = Path(f"/proc/{worker}/cmdline").read_bytes().split(b"\0")
            assert b"--proxy-headers" in cmdline  # the server's arguments after `--` arrive

        started = time.monotonic()
        server.send_signal(kill_signal)
        assert server.wait(timeout=timeout_stop) == 0
        assert time.monotonic() - started < timeout_stop / 2
        for worker in workers:
            assert not Path(f"/proc/{worker}").exists() or _is_zombie(worker)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
        log.close()


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True
