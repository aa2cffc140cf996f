"""Benchmark (not a test): derivative(g, order=k, mode="taylor") of g(x) = sin(x) exp(-x^2/2) at x = 0.7.

Targets: order 8 under 1 ms, and t(8) / t(1) <= 5. Prints CPU time (process_time, less sensitive to other
processes on a shared machine) and wall time, best of 9 repeats, plus nested mode at order 8 for contrast.

    python benchmarks/transforms_taylor.py
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402

REFERENCE = [0.245682975835, -1.59949411364, 0.430250247209, 8.08198990423, -9.72383304247, -54.3821798567,
             132.406792226, 441.848777437]


def g(x):
    return hnp.sin(x) * hnp.exp(-x * x / 2)


def best(function, number=200, repeat=9, clock=time.process_time):
    times = []
    for _ in range(repeat):
        start = clock()
        for _ in range(number):
            function()
        times.append((clock() - start) / number)
    return min(times)


def main():
    cpu = {}
    for order in range(1, 9):
        derivative = hd.derivative(g, order=order)
        value = float(derivative(0.7))
        assert abs(value - REFERENCE[order - 1]) <= 1e-9 * abs(REFERENCE[order - 1]), (order, value)
        cpu[order] = best(lambda: derivative(0.7))
        wall = best(lambda: derivative(0.7), clock=time.perf_counter)
        print(f"order {order}: {value:+.12g}   cpu {cpu[order] * 1e3:.3f} ms   wall {wall * 1e3:.3f} ms")
    print(f"t(8) / t(1) = {cpu[8] / cpu[1]:.2f} (cpu)")
    nested = hd.derivative(g, order=8, mode="nested")
    print(f"nested mode, order 8: {float(nested(0.7)):+.12g}   cpu {best(lambda: nested(0.7), 3, 3) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
