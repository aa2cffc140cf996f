"""The second-order examples run end to end in --quick mode (small data, a few seconds)."""

import importlib.util
import pathlib

import numpy as np

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hvp_newton_quick(capsys):
    _load("hvp_newton").main(["--quick"])
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split()[:1] in
            (["trust-krylov"], ["Newton-CG"], ["L-BFGS-B"])}
    assert set(rows) == {"trust-krylov", "Newton-CG", "L-BFGS-B"}
    iterations = {method: int(row[1]) for method, row in rows.items()}
    assert iterations["Newton-CG"] < iterations["L-BFGS-B"] and iterations["trust-krylov"] < iterations["L-BFGS-B"]
    losses = [float(row[5]) for row in rows.values()]
    assert max(losses) - min(losses) < 1e-6


def test_hessian_spectrum_quick(tmp_path, capsys):
    out_path = tmp_path / "spectrum.png"
    module = _load("hessian_spectrum")
    module.main(["--quick", "--out", str(out_path)])
    out = capsys.readouterr().out
    assert "top-5 eigenvalues" in out and "trace (Hutchinson)" in out
    if "wrote" in out:
        assert out_path.stat().st_size > 1000
    else:
        assert "matplotlib is not installed" in out


def test_text_density_shows_every_bin(capsys):
    module = _load("hessian_spectrum")
    grid = np.linspace(-1, 1, 201)
    density = np.exp(-0.5 * (grid / 0.2) ** 2)
    density /= np.trapezoid(density, grid)

    class Density:
        pass

    result = Density()
    result.grid, result.density = grid, density
    module.text_density(result, rows=4)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and all("[" in line for line in lines)
    assert lines[1].count("#") > lines[0].count("#")
