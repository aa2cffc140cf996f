"""The cycle collector's pause during transforms (core/gcpause.py) never leaks out of hodiff."""

import gc
import os
import sys
import threading

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp


def _collector_state_in_forked_child():
    """Fork while another thread is inside hd.grad; the child's gc.isenabled() (and after a grad)."""
    inside, release = threading.Event(), threading.Event()

    def f(x):
        inside.set()
        release.wait(10)
        return hnp.sum(x * x)

    worker = threading.Thread(target=lambda: hd.grad(f)(np.ones(3)))
    worker.start()
    try:
        assert inside.wait(10)
        assert not gc.isenabled()  # the worker's transform holds the pause
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report and leave at once, without pytest's teardown
            try:
                first = gc.isenabled()
                hd.grad(lambda x: hnp.sum(hnp.sin(x)))(np.ones(2))
                os.write(write_end, bytes([int(first), int(gc.isenabled())]))
            finally:
                os._exit(0)
        os.close(write_end)
        report = os.read(read_end, 2)
        os.close(read_end)
        os.waitpid(pid, 0)
    finally:
        release.set()
        worker.join()
    return report


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32", reason="needs os.fork")
def test_a_child_forked_during_another_threads_transform_collects_garbage():
    assert gc.isenabled()
    report = _collector_state_in_forked_child()
    assert report == bytes([1, 1]), f"child gc enabled: at start {report[0]}, after a grad {report[1]}"
    assert gc.isenabled()  # the parent's collector is back once the worker's grad returned


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32", reason="needs os.fork")
def test_a_collector_the_user_disabled_stays_disabled_in_a_child():
    gc.disable()
    try:
        read_end, write_end = os.pipe()
        hd.grad(lambda x: x * x)(1.0)
        pid = os.fork()
        if pid == 0:
            try:
                os.write(write_end, bytes([int(gc.isenabled())]))
            finally:
                os._exit(0)
        os.close(write_end)
        report = os.read(read_end, 1)
        os.close(read_end)
        os.waitpid(pid, 0)
        assert report == b"\x00"
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_pauses_nest_and_restore():
    assert gc.isenabled()
    hd.hessian(lambda x: hnp.sum(x ** 3))(np.ones(2))
    hd.grad(lambda x: hd.grad(lambda y: y * x)(x))(2.0)
    assert gc.isenabled()
