"""Development signs with a random key generated into a git-ignored file; production refuses to
start without SECRET_KEY (issue 20: no signing key published in the repository)."""

import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from imserver.dev_secret import development_secret_key

ROOT = Path(__file__).resolve().parents[1]


def settings_probe(env: dict[str, str], expression: str) -> subprocess.CompletedProcess:
    """Load the real settings in a fresh interpreter with exactly these variables set."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "JWT_SIGNING_KEY", "DEBUG", "IM_DEV_SECRET_FILE"}
    }
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='imserver.settings'; "
        f"django.setup(); from django.conf import settings as s; print({expression})"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, cwd=ROOT, capture_output=True, text=True
    )


def test_debug_without_secret_key_generates_a_private_key_once(tmp_path):
    key_file = tmp_path / "dev-secret"
    env = {"DEBUG": "1", "IM_DEV_SECRET_FILE": str(key_file)}
    first = settings_probe(env, "s.SECRET_KEY, s.SIMPLE_JWT['SIGNING_KEY'] == s.SECRET_KEY")
    assert first.returncode == 0, first.stderr
    key, signs_tokens = first.stdout.split()
    assert signs_tokens == "True" and len(key) >= 60
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # readable by its owner only
    # The next start uses the same key (tokens survive a restart); another machine's differs.
    assert settings_probe(env, "s.SECRET_KEY").stdout.strip() == key
    other = settings_probe({**env, "IM_DEV_SECRET_FILE": str(tmp_path / "other")}, "s.SECRET_KEY")
    assert other.stdout.strip() not in ("", key)


def test_a_set_secret_key_is_used_and_no_file_is_made(tmp_path):
    key_file = tmp_path / "dev-secret"
    env = {"DEBUG": "1", "SECRET_KEY": "s" * 50, "IM_DEV_SECRET_FILE": str(key_file)}
    result = settings_probe(env, "s.SECRET_KEY")
    assert result.stdout.strip() == "s" * 50
    assert not key_file.exists()


def test_production_without_secret_key_refuses_to_start(tmp_path):
    key_file = tmp_path / "dev-secret"
    key_file.write_text("k" * 60)  # a development key lying around is not used either
    result = settings_probe({"IM_DEV_SECRET_FILE": str(key_file)}, "s.SECRET_KEY")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_the_default_key_file_is_ignored_by_git():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".dev-secret"], cwd=ROOT, capture_output=True
    )
    assert ignored.returncode == 0


def test_processes_starting_at_once_agree_on_one_key(tmp_path):
    key_file = tmp_path / "dev-secret"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: development_secret_key(key_file), range(16)))
    assert len(keys) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev-secret"]  # no temporary left


def test_an_unusable_key_file_is_a_clear_error(tmp_path):
    empty = tmp_path / "dev-secret"
    empty.write_text("\n")
    with pytest.raises(ImproperlyConfigured, match="delete it"):
        development_secret_key(empty)
    with pytest.raises(ImproperlyConfigured, match="IM_DEV_SECRET_FILE"):
        development_secret_key(tmp_path / "missing-folder" / "dev-secret")
