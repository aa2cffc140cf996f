"""pytest plugin: ``import autograd`` (and every ``autograd.*``) gives hodiff.autograd's module of that name.

Every submodule of hodiff.autograd is imported and entered in sys.modules a
second time under its autograd name, so ``import autograd.numpy as np`` and
``from autograd.scipy.stats import norm`` find the very module objects of
``hodiff.autograd.numpy`` and ``hodiff.autograd.scipy.stats``. Loaded with
``-p tests.autograd_conformance.alias`` before any test module is imported.
"""

import importlib
import pkgutil
import sys

PREFIX = "hodiff.autograd"


def install():
    """Import hodiff.autograd's modules and register each under its autograd name; return the names."""
    package = importlib.import_module(PREFIX)
    for info in pkgutil.walk_packages(package.__path__, PREFIX + "."):
        importlib.import_module(info.name)
    aliased = []
    for name, module in list(sys.modules.items()):
        if name == PREFIX or name.startswith(PREFIX + "."):
            alias = "autograd" + name[len(PREFIX):]
            sys.modules[alias] = module
            aliased.append(alias)
    return sorted(aliased)


def pytest_configure(config):
    install()
    config._autograd_deselected = read_list("deselected.txt")
    config._autograd_known = read_list("known_failures.txt")


# ----------------------------------------------------------------- the two lists

import ast  # noqa: E402
import pathlib  # noqa: E402

import pytest  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent


def read_list(name):
    """{test id prefix: reason} from a list file: one ``tests/file.py[::test]  reason`` per line, # comments."""
    entries = {}
    for line in (HERE / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        test_id, _, reason = line.partition(" ")
        entries[test_id] = reason.strip() or "(no reason given)"
    return entries


def _matches(nodeid, test_id):
    return nodeid == test_id or nodeid.startswith(test_id + "::") or nodeid.startswith(test_id + "[")


def _lookup(nodeid, entries):
    for test_id, reason in entries.items():
        if _matches(nodeid, test_id):
            return reason
    return None


class UnimportedFile(pytest.File):
    """A test file listed whole in deselected.txt: it imports autograd internals at module level, so it is
    not imported; its test functions are read from its source (one item per function) and deselected."""

    def collect(self):
        tree = ast.parse(self.path.read_text())
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                yield NotRun.from_parent(self, name=node.name)


class NotRun(pytest.Item):
    def runtest(self):
        raise AssertionError("a deselected test was run")


def pytest_pycollect_makemodule(module_path, parent):
    relative = module_path.relative_to(parent.config.rootpath).as_posix()
    if relative in parent.config._autograd_deselected:
        return UnimportedFile.from_parent(parent, path=module_path)
    return None


def pytest_collection_modifyitems(session, config, items):
    deselected, kept = [], []
    for item in items:
        (deselected if _lookup(item.nodeid, config._autograd_deselected) is not None else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
    for item in items:
        reason = _lookup(item.nodeid, config._autograd_known)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=False))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    stats = terminalreporter.stats

    def count(key):
        return len([r for r in stats.get(key, []) if getattr(r, "when", "call") in ("call", "setup", "collect")])

    terminalreporter.write_line(
        f"autograd conformance counts: {count('passed')} passed, {count('failed')} failed, "
        f"{count('error')} errors, {count('xfailed')} known failures (xfailed), "
        f"{count('xpassed')} known failures now passing (xpassed: delete their lines), "
        f"{len(stats.get('deselected', []))} deselected")
