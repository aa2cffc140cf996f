"""hodiff.testing.accuracy: the sweep of derivatives against mpmath finds what it should, and no more."""

import mpmath
import pytest

import hodiff.numpy as hnp
from hodiff.testing import accuracy


def test_a_wrong_derivative_is_found_and_named():
    findings = accuracy.sweep({"tanh as sinh": (hnp.tanh, mpmath.sinh)}, points=(0.5, 3.0), orders=(1,))
    assert {(f[1], f[2], f[3], f[4]) for f in findings} == {
        ("tanh as sinh", x, 1, mode) for x in (0.5, 3.0) for mode in ("taylor", "nested")}


def test_the_fixed_functions_keep_their_digits_everywhere():
    # expm1 (exp, not ans + 1), rgamma (the reflection near its zeros), i0e (ive's regions), hypot with a tiny
    # argument (hypot_cos): each had findings before its fix; the points run from -1e8 to 1e8 (float32: 1e6)
    fixed = ("expm1", "rgamma", "i0e", "hypot(x; 1e-3)")
    table = {name: row for name, row in accuracy.reference_table().items() if name in fixed}
    assert len(table) == len(fixed) and accuracy.sweep(table) == []
    assert accuracy.sweep({"hypot": table["hypot(x; 1e-3)"]}, dtype="float32", threshold=3e-5) == []


def test_the_command_line(capsys):
    assert accuracy.main(["--functions", "expm1,log1p"]) == 0
    assert "0 cases past 1e-09 (0 not known) over 2 functions, float64" in capsys.readouterr().out
    assert accuracy.main(["--functions", "expm1,nope"]) == 2
    assert "unknown functions: nope" in capsys.readouterr().err
    # high orders in Taylor mode only (the stop-40 sweep ran orders 4, 6, 8 over every function)
    assert accuracy.main(["--functions", "erf,sin", "--orders", "5,7", "--modes", "taylor"]) == 0
    assert "0 cases past 1e-09 (0 not known) over 2 functions, float64" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="2"):  # argparse's usage error
        accuracy.main(["--functions", "erf", "--orders", "0"])
