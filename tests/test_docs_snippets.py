"""Every code block in README.md and docs/*.md runs, so no snippet rots.

- ```python blocks of one page run in order in one namespace, as a reader
  types them, in a scratch directory (files they write stay out of the repo).
- Shell blocks: each line ``$ hodiff ...`` runs as ``python -m hodiff ...``
  and must exit 0 without a traceback.
A block that is not meant to run says so with ```text (or another language).
A page whose python blocks import an optional extra that is not installed
(dask, for docs/scale.md), or call hd.render without Graphviz's `dot` program,
is skipped, naming what is missing (.ci/run installs both).
"""

import importlib.util
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(page, language):
    return [body for lang, body in FENCE.findall(page.read_text()) if lang == language]


def shell_commands(page):
    commands = []
    for lang, body in FENCE.findall(page.read_text()):
        if lang in ("", "bash", "console", "sh"):
            commands += [line[2:].strip() for line in body.splitlines() if line.startswith("$ hodiff ")]
    return commands


def test_the_pages_have_snippets():
    # The test must not pass by finding nothing: the README alone has several.
    assert len(blocks(ROOT / "README.md", "python")) >= 3
    assert len(shell_commands(ROOT / "README.md")) >= 3


PYTHON_PAGES = [page for page in PAGES if blocks(page, "python")]
OPTIONAL = {"dask": "dask", "distributed": "dask"}  # module a snippet imports -> the extra that installs it
IMPORT = re.compile(r"^\s*(?:from|import)\s+(\w+)", re.MULTILINE)


def missing_requirements(page):
    """The optional extras (and Graphviz's `dot`) that ``page``'s python blocks need and this machine lacks."""
    code = "\n".join(blocks(page, "python"))
    modules = set(IMPORT.findall(code))
    absent = {name for name in modules & OPTIONAL.keys() if importlib.util.find_spec(name) is None}
    missing = {f"the extra {OPTIONAL[name]}" for name in absent}
    if "render(" in code and shutil.which("dot") is None:
        missing.add("Graphviz's dot program")
    return sorted(missing)


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=[page.name for page in PYTHON_PAGES])
def test_python_snippets_run(page, tmp_path, monkeypatch):
    if missing_requirements(page):
        pytest.skip(f"{page.name} needs {', '.join(missing_requirements(page))}, not installed")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": f"snippets_of_{page.stem}"}
    for number, body in enumerate(blocks(page, "python"), start=1):
        try:
            exec(compile(body, f"{page.name} python block {number}", "exec"), namespace)
        except Exception as error:  # noqa: BLE001 - re-raised with the block that failed
            raise AssertionError(f"{page.name}, python block {number} fails:\n{body}") from error


SHELL_CASES = [(page, command) for page in PAGES for command in shell_commands(page)]


@pytest.mark.parametrize("page,command", SHELL_CASES, ids=[f"{p.name}:{c[:50]}" for p, c in SHELL_CASES])
def test_shell_snippets_run(page, command, tmp_path):
    argv = [sys.executable, "-m", "hodiff"] + shlex.split(command)[1:]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0, f"{page.name}: `{command}` exits {result.returncode}:\n{result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr
