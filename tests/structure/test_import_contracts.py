"""The import contracts of ``.importlinter`` (docs/architecture.md) hold, and they catch a
deliberate violation of each kind: the platform importing an app, a lower layer importing a
higher one, and a domain core importing an interface module."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    "imserver",
    "accounts",
    "social",
    "notifications",
    "groups",
    "files",
    "chat",
    "realtime",
    "webclient",
]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the Python sources and the contracts, to break on purpose."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns(
                "__pycache__", "locale", "static", "templates", "migrations"
            ),
        )
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_the_contracts_hold_on_the_code_base():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_unchanged_copy_passes(tree: Path):
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr


VIOLATIONS = [
    ("imserver/api/errors.py", "chat.models", "The platform (imserver) imports no app"),
    ("accounts/services.py", "groups.selectors", "Apps form layers"),
    ("groups/services.py", "chat.services", "Apps form layers"),
    ("chat/services.py", "chat.serializers", "know nothing of HTTP"),
    ("social/selectors.py", "imserver.api.pagination", "know nothing of HTTP"),
]


def test_each_deliberate_violation_breaks_its_contract(tree: Path):
    """One run over a copy with every violation: each is reported under its contract."""
    for module, imported, _contract in VIOLATIONS:
        path = tree / module
        path.write_text(path.read_text() + f"\nimport {imported}  # deliberate violation\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    report = " ".join(result.stdout.split())  # the report wraps long contract names
    assert "Contracts: 0 kept, 3 broken." in report
    sections = report.split("Broken contracts", 1)[1]
    for module, imported, contract in VIOLATIONS:
        importer = module.removesuffix(".py").replace("/", ".")
        assert f"{importer} -> {imported}" in sections
        assert contract in sections
