"""Shared fixtures: every test runs fast (small time scale) and must leave no process of ours behind."""
import os

import psutil
import pytest

import helpers

os.environ.setdefault("COURSE_TIME_SCALE", "0.05")
METHODS = ["forkserver", "spawn", "fork"]


@pytest.fixture(params=METHODS)
def start_method(request, monkeypatch):
    """Run the test once per start method (the environment variable is what helpers reads)."""
    monkeypatch.setenv("COURSE_START_METHOD", request.param)
    return request.param


@pytest.fixture(autouse=True)
def nothing_left_running():
    """Fail any test after which a worker, server or zombie of ours is still there."""
    yield
    left = helpers.leftovers(grace=5.0)
    if left:
        for p in helpers.runner.our_processes():
            try:
                p.kill()
            except psutil.Error:
                pass
        helpers.leftovers(grace=2.0)
        pytest.fail("processes left running after the test: " + "; ".join(left))
