"""Run every papers/*.py reproduction and tabulate which claims hold.

Each script (all papers/*.py but this one) runs in its own subprocess, with
--quick when given, and with --png FILE into --png-dir when it takes --png
and matplotlib is installed. The table gives, per script, PASS or FAIL (its
exit status), its wall time and the last line it printed (for a failure: the
first line of its CLAIM NOT REPRODUCED message, else its last line of
stderr). The exit status is 1 when any script failed.

    python papers/run_all.py [--quick] [--only NAME ...] [--png-dir DIR] [--timeout SECONDS]
"""

import argparse
import importlib.util
import os
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent


def scripts(directory, only=None):
    """The scripts to run: every *.py in ``directory`` but this one, or those named in ``only``."""
    found = sorted(path for path in pathlib.Path(directory).glob("*.py") if path.name != pathlib.Path(__file__).name)
    if not only:
        return found
    names = {path.stem: path for path in found}
    chosen = []
    for name in only:
        stem = pathlib.Path(name).stem
        if stem not in names:
            raise SystemExit(f"run_all.py: --only {name!r}: no such script in {directory} "
                             f"(there are: {', '.join(sorted(names))})")
        chosen.append(names[stem])
    return chosen


def takes_png(path):
    return '"--png"' in path.read_text()


def summary_line(returncode, stdout, stderr):
    """The line the table shows: the last printed line, or what a failure says first."""
    out = [line for line in stdout.splitlines() if line.strip()]
    err = [line for line in stderr.splitlines() if line.strip()]
    if returncode == 0:
        return out[-1].strip() if out else "(printed nothing)"
    for index, line in enumerate(err):
        if "CLAIM NOT REPRODUCED" in line:
            return err[index + 1].strip() if index + 1 < len(err) else line.strip()
    return err[-1].strip() if err else (out[-1].strip() if out else f"exit status {returncode}")


def run(path, quick, png_dir, timeout):
    command = [sys.executable, str(path)] + (["--quick"] if quick else [])
    if png_dir is not None and takes_png(path):
        command += ["--png", str(pathlib.Path(png_dir) / f"{path.stem}.png")]
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent)] + [p for p in [env.get("PYTHONPATH")] if p])
    start = time.perf_counter()
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
        returncode, stdout, stderr = result.returncode, result.stdout, result.stderr
    except subprocess.TimeoutExpired:
        returncode, stdout, stderr = -1, "", f"timed out after {timeout:g} s"
    seconds = time.perf_counter() - start
    return dict(name=path.name, passed=returncode == 0, seconds=seconds,
                line=summary_line(returncode, stdout, stderr))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="pass --quick to every script")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this script (repeatable)")
    parser.add_argument("--png-dir", default="paper-figures",
                        help="where the scripts that take --png write their figure (when matplotlib is installed)")
    parser.add_argument("--dir", default=str(HERE), help=argparse.SUPPRESS)  # another directory of scripts (tests)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per script")
    args = parser.parse_args(argv)
    if not args.timeout > 0:
        parser.error(f"--timeout must be positive, got {args.timeout:g}")

    png_dir = None
    if importlib.util.find_spec("matplotlib") is None:
        print("(matplotlib is not installed: no figures written; pip install matplotlib)")
    else:
        png_dir = pathlib.Path(args.png_dir)
        png_dir.mkdir(parents=True, exist_ok=True)
        print(f"figures go to {png_dir.resolve()}")

    rows = []
    for path in scripts(args.dir, args.only):
        row = run(path, args.quick, png_dir, args.timeout)
        rows.append(row)
        print(f"{'PASS' if row['passed'] else 'FAIL'}  {row['name']}", flush=True)

    width = max([len(row["name"]) for row in rows] + [6])
    print(f"\n{'script':<{width}}  {'result':<6}  {'s':>6}  last line")
    for row in rows:
        result = "PASS" if row["passed"] else "FAIL"
        print(f"{row['name']:<{width}}  {result:<6}  {row['seconds']:>6.1f}  {row['line']}")
    failed = [row["name"] for row in rows if not row["passed"]]
    if failed:
        sys.exit(f"run_all.py: {len(failed)} of {len(rows)} reproductions failed: {', '.join(failed)}")
    print(f"all {len(rows)} reproductions passed{' (quick mode)' if args.quick else ''}")


if __name__ == "__main__":
    main()
