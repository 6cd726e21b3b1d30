"""Selectors never write (docs/architecture.md): no selector module calls a method of the ORM
that writes. Writes live in services (and ``chat.store``)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SELECTOR_MODULES = [*sorted(ROOT.glob("*/selectors.py")), ROOT / "chat" / "file_access.py"]
WRITES = {
    "save",
    "create",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
    "update",
    "delete",
    "set",
    "add",
    "remove",
    "clear",
}


def writes_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{path.name}:{node.lineno} .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in WRITES
    ]


@pytest.mark.parametrize("path", SELECTOR_MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_a_selector_module_calls_no_write(path: Path):
    assert writes_in(path) == []


def test_the_check_sees_a_write(tmp_path: Path):
    module = tmp_path / "selectors.py"
    module.write_text("def f(M):\n    return M.objects.get_or_create(pk=1)\n")
    assert writes_in(module) == ["selectors.py:2 .get_or_create()"]
