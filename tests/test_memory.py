"""hd.keep_freed_memory: glibc keeps freed temporaries, so a step that frees a few MB each call stops
page-faulting them back (process-wide, so each measurement runs in a fresh interpreter)."""

import platform
import subprocess
import sys

import pytest

import hodiff as hd

_STEP = """
import resource, sys
import numpy as np
if sys.argv[1] == "keep":
    import hodiff as hd
    assert hd.keep_freed_memory()
x = np.ones(500_000)  # 4 MB, like GradBench gmm's (n, k, d) temporaries

def step():  # three such temporaries alive at once, freed together
    a = x + 1.0
    b = a * 2.0
    return float((b - a).sum())

for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def _faults_per_step(mode):
    done = subprocess.run([sys.executable, "-c", _STEP, mode], capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_kept_memory_stops_the_page_faults_of_freed_temporaries():
    default = _faults_per_step("default")
    if default < 500:
        pytest.skip(f"this glibc keeps the freed temporaries already ({default:.0f} faults a step)")
    assert _faults_per_step("keep") < 0.05 * default


def test_limit_is_checked():
    for bad in (0, -1, 2 ** 31, 1.5e9, "1GB"):
        with pytest.raises(ValueError, match="keep_freed_memory: limit must be a positive int"):
            hd.keep_freed_memory(bad)
