"""Run autograd 1.9.1's own tests against hodiff.autograd.

    python -m tests.autograd_conformance [pytest options, e.g. -x, -k linalg, tests/test_numpy.py]

1. fetch autograd 1.9.1's source distribution with pip (once; cached in
   $HODIFF_AUTOGRAD_CACHE, default ~/.cache/hodiff/autograd-conformance):
   ``pip download --no-deps --no-binary :all: autograd==1.9.1``;
2. unpack it into a fresh temporary directory and delete its ``autograd/``
   package, so the only autograd there is to import is hodiff.autograd;
3. run its ``tests/`` with pytest, with the plugin alias.py (``import
   autograd`` gives hodiff.autograd), leaving out the tests listed in
   deselected.txt (autograd's internals) and marking those in
   known_failures.txt as expected failures (gaps of hodiff, each with the
   piece of work that closes it).

It prints pytest's counts (passed / failed / xfailed / xpassed / deselected)
and the wall time. An xpassed test is a known failure that now passes: delete
its line from known_failures.txt. The exit status is pytest's.
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

VERSION = "1.9.1"
HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent


def cache_dir():
    default = pathlib.Path.home() / ".cache" / "hodiff" / "autograd-conformance"
    return pathlib.Path(os.environ.get("HODIFF_AUTOGRAD_CACHE", default))


def fetch_sdist():
    """The path of autograd's sdist, downloaded with pip on first use."""
    directory = cache_dir()
    sdist = directory / f"autograd-{VERSION}.tar.gz"
    if not sdist.exists():
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        f"autograd=={VERSION}", "-d", str(directory), "-q"], check=True)
    if not sdist.exists():
        raise SystemExit(f"pip download did not produce {sdist}")
    return sdist


def unpack(sdist, into):
    """Unpack the sdist under ``into``; remove its autograd package; return the source tree."""
    with tarfile.open(sdist) as archive:
        archive.extractall(into, filter="data")
    tree = pathlib.Path(into) / f"autograd-{VERSION}"
    shutil.rmtree(tree / "autograd")
    return tree


def main(argv):
    start = time.perf_counter()
    sdist = fetch_sdist()
    with tempfile.TemporaryDirectory(prefix="autograd-conformance-") as work:
        tree = unpack(sdist, work)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        # Paths of autograd's tree (tests/...) select; every other argument is passed to pytest as it is.
        selection = [] if any(a.startswith("tests") for a in argv) else ["tests"]
        options = list(argv)
        # The ini file goes into the tree: pytest >= 9 roots its collection at the common ancestor of the
        # ini file and the tests, so an ini file elsewhere would have it collect unrelated directories.
        shutil.copy(HERE / "pytest.ini", tree / "pytest.ini")
        command = [sys.executable, "-m", "pytest", "-c", str(tree / "pytest.ini"), "--rootdir", str(tree),
                   "-p", "tests.autograd_conformance.alias", "-p", "no:cacheprovider",
                   "-q", "-rfEX", "--tb=short", *options, *selection]
        result = subprocess.run(command, cwd=tree, env=env)
    print(f"autograd {VERSION} conformance: {time.perf_counter() - start:.0f} s wall time "
          f"(pytest exit status {result.returncode})")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
