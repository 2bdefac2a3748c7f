"""The dependency rule: core imports no module or plugin; a module imports no other module or plugin."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_names(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append((node.lineno, node.module))
    return names


def violations(folder: Path, allowed_prefix: str | None, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in folder.rglob("*.py"):
        for line, name in imported_names(path):
            top = name.split(".")[0]
            if top not in forbidden:
                continue
            if allowed_prefix and (name == allowed_prefix or name.startswith(allowed_prefix + ".")):
                continue
            found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return found


def test_core_imports_no_module_or_plugin():
    assert violations(ROOT / "core", None, ("modules", "plugins")) == []


def test_modules_import_neither_each_other_nor_plugins():
    problems = []
    for module in sorted(p for p in (ROOT / "modules").iterdir() if p.is_dir() and (p / "apps.py").exists()):
        problems += violations(module, f"modules.{module.name}", ("modules", "plugins"))
    assert problems == []


def test_the_checker_catches_a_violation(tmp_path):
    bad = tmp_path / "core"
    bad.mkdir()
    (bad / "x.py").write_text("from modules.marketplace.models import Booking\nimport plugins.llm\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert len(violations(bad, None, ("modules", "plugins"))) == 2
    finally:
        ROOT = saved
