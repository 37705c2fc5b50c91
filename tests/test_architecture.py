"""The house rules the import linter cannot see: an import inside a function is allowed only
where a comment right above it says why it cannot stand at the top of the module."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "clause_tracker"


def _imports_inside_functions(source: str) -> list[int]:
    found = []
    for function in ast.walk(ast.parse(source)):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [node.lineno for node in ast.walk(function)
                      if isinstance(node, ast.Import | ast.ImportFrom)]
    return found


def _has_reason(lines: list[str], lineno: int) -> bool:
    """A comment on the import's line or on the line(s) right above it."""
    if "#" in lines[lineno - 1]:
        return True
    above = lineno - 2
    return above >= 0 and lines[above].strip().startswith("#")


def test_every_import_inside_a_function_says_why() -> None:
    unexplained = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        unexplained += [f"{path.relative_to(PACKAGE.parent)}:{n}"
                        for n in _imports_inside_functions(source) if not _has_reason(lines, n)]
    assert not unexplained, "imports inside functions without a reason:\n" + "\n".join(unexplained)


def test_the_rule_sees_an_unexplained_import() -> None:
    source = "def f():\n    import json\n    return json\n\n\ndef g():\n    # why\n    import os\n"
    lines = source.splitlines()
    assert [n for n in _imports_inside_functions(source) if not _has_reason(lines, n)] == [2]
