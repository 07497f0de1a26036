"""The house rules that code review keeps forgetting: imports point one way
(ui -> jobs -> providers), and no code outside providers/ names a provider."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The hosted providers' names as they would appear in code (labels, module names, keys).
PROVIDER_WORDS = re.compile(r"runcomfy|wavespeed", re.I)
# Who may import whom: a package may import only the packages listed for it.
ALLOWED = {"providers": {"providers"}, "jobs": {"jobs", "providers"}, "ui": {"ui", "jobs", "providers"}}


def sources(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (REPO / folder).glob("*.py"))


def code_lines_naming_providers(path: Path) -> list[int]:
    """Line numbers of code (not comments, not docstrings) that mention a provider."""
    lines: set[int] = set()
    tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline))
    statement_start = True
    for index, token in enumerate(tokens):
        if token.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            statement_start = True
            continue
        if token.type in (tokenize.COMMENT, tokenize.NL):
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        docstring = (
            token.type == tokenize.STRING
            and statement_start
            and following is not None
            and following.type == tokenize.NEWLINE
        )
        statement_start = False
        if not docstring and PROVIDER_WORDS.search(token.string):
            lines.update(range(token.start[0], token.end[0] + 1))
    return sorted(lines)


@pytest.mark.parametrize("path", [*sources("jobs", "ui"), REPO / "app.py"], ids=lambda p: p.name)
def test_no_code_outside_providers_names_a_provider(path: Path) -> None:
    assert code_lines_naming_providers(path) == [], f"{path.relative_to(REPO)} names a provider"


def test_the_checker_sees_a_name_in_code_but_not_in_a_docstring(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""About RunComfy."""\n# WaveSpeed\nx = 1\nLABEL = "WaveSpeedAI"\n', encoding="utf-8")
    assert code_lines_naming_providers(sample) == [4]


@pytest.mark.parametrize("path", sources("providers", "jobs", "ui"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_imports_point_one_way(path: Path) -> None:
    package = path.parent.name
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top in ALLOWED:
                assert top in ALLOWED[package], f"{package}/{path.name} imports {name}"
            if package != "ui":
                assert top != "gradio", f"{package}/{path.name} imports gradio"
