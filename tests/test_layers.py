"""The layers stay one-way: parse every module's imports (index ← search ← webui; who may import what)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("index", "search", "webui")

#: Third-party or sibling top-level names and the packages allowed to import them.
ALLOWED = {
    "whoosh": {"index", "search"},
    "jieba": {"index"},
    "flask": {"webui"},
    "werkzeug": {"webui"},
    "waitress": {"webui"},
    "search": {"search", "webui"},
    "webui": {"webui"},
}


def imported_names(path: Path) -> set[str]:
    """Top-level names of every module `path` imports (at any depth in the file)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def modules() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_every_package_has_modules() -> None:
    for package in PACKAGES:
        assert list((ROOT / package).glob("*.py")), package


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_imports_follow_the_layers(path: Path) -> None:
    package = path.relative_to(ROOT).parts[0]
    for name in imported_names(path):
        allowed = ALLOWED.get(name)
        assert allowed is None or package in allowed, f"{path.relative_to(ROOT)} imports {name}"


def test_the_checker_sees_nested_and_from_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import whoosh.query\nfrom flask import Flask\ndef f():\n    import jieba\n", encoding="utf-8")
    assert imported_names(sample) == {"whoosh", "flask", "jieba"}
