"""The course's knobs: which start method workers use, how fast demos run, how random is seeded.

Every knob is read from an environment variable so that `make test`, an instructor's shell and a
learner's notebook can set it the same way; the functions here validate it and say what to do when
a value is wrong.

- ``COURSE_START_METHOD``: ``forkserver``, ``spawn`` or ``fork``. Unset: forkserver on POSIX (children
  start fresh, like on Windows and macOS, at a tenth of spawn's cost), spawn on Windows.
- ``COURSE_TIME_SCALE``: multiplies every :func:`sleep` a demo takes; 1.0 is the article's timing.
- ``COURSE_SEED``: seeds :func:`rng`, so "random" song lengths and arrival times repeat.

Introduced in ``00_start_here.ipynb``.
"""
from __future__ import annotations

import os
import random
import sys
import time
import zlib

import multiprocess

START_METHODS = ("forkserver", "spawn", "fork")
_PRELOAD = ["helpers"]


def default_start_method() -> str:
    """The method the course uses when ``COURSE_START_METHOD`` is unset."""
    return "spawn" if sys.platform == "win32" else "forkserver"


def check_start_method(method: str) -> str:
    """Return ``method`` if this machine supports it, else raise a ValueError that says what to use."""
    if not isinstance(method, str):
        raise TypeError(f"start method must be a string such as 'spawn', not {type(method).__name__}.")
    if method not in START_METHODS:
        raise ValueError(
            f"unknown start method {method!r}: use one of {', '.join(START_METHODS)} "
            "(set COURSE_START_METHOD or pass start_method=...)."
        )
    if method not in multiprocess.get_all_start_methods():
        raise ValueError(
            f"start method {method!r} is not available on {sys.platform}: "
            f"use one of {', '.join(multiprocess.get_all_start_methods())}."
        )
    return method


def start_method() -> str:
    """The start method workers use now: ``COURSE_START_METHOD`` if set, else the course default."""
    return check_start_method(os.environ.get("COURSE_START_METHOD") or default_start_method())


def context(method: str | None = None):
    """A multiprocess context for ``method`` (default: :func:`start_method`), never the library default.

    The forkserver preloads ``helpers`` so every child starts with it already imported.
    """
    method = check_start_method(method) if method is not None else start_method()
    ctx = multiprocess.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def time_scale() -> float:
    """The factor ``COURSE_TIME_SCALE`` applies to every demo sleep (default 1.0)."""
    raw = os.environ.get("COURSE_TIME_SCALE", "1.0")
    try:
        scale = float(raw)
    except ValueError:
        raise ValueError(f"COURSE_TIME_SCALE={raw!r} is not a number: set it to e.g. 1.0 or 0.05.") from None
    if not scale > 0:
        raise ValueError(f"COURSE_TIME_SCALE={raw!r} must be greater than 0: use e.g. 1.0 or 0.05.")
    return scale


def set_time_scale(scale: float) -> None:
    """Set the time scale for this process and the workers it starts from now on."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise TypeError(f"time scale must be a number such as 0.1, not {type(scale).__name__}.")
    if not scale > 0:
        raise ValueError(f"time scale must be greater than 0, got {scale}: use e.g. 1.0 or 0.1.")
    os.environ["COURSE_TIME_SCALE"] = repr(float(scale))


def sleep(seconds: float) -> None:
    """``time.sleep(seconds * COURSE_TIME_SCALE)``: the one sleep every demo uses."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"sleep() takes a number of seconds, not {type(seconds).__name__}.")
    if seconds < 0:
        raise ValueError(f"sleep() cannot wait a negative time ({seconds}); pass 0 or more seconds.")
    time.sleep(seconds * time_scale())


def seed() -> int:
    """The course seed, ``COURSE_SEED`` (default 2018, the year of the article)."""
    raw = os.environ.get("COURSE_SEED", "2018")
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"COURSE_SEED={raw!r} is not an integer: set it to e.g. 2018.") from None


_generators: dict = {}


def rng(name: str | None = None) -> random.Random:
    """This process's random generator for ``name`` (default: the current worker's name).

    It is seeded by the course seed and the name, so each worker draws its own repeatable sequence
    whatever the start method: forked children would otherwise share the parent's random state and
    all draw the same "random" numbers.
    """
    if name is None:
        from .trace import worker_name

        name = worker_name()
    key = (seed(), str(name))
    if key not in _generators:
        _generators[key] = random.Random(key[0] * 1_000_003 + zlib.crc32(key[1].encode("utf-8")))
    return _generators[key]


def reset_random() -> None:
    """Forget every generator, so the next :func:`rng` call starts each sequence again."""
    _generators.clear()


def sleep_random(low: float, high: float, name: str | None = None) -> float:
    """Sleep a seeded random time in [low, high] (scaled) and return the unscaled seconds drawn."""
    if low > high:
        raise ValueError(f"sleep_random(low={low}, high={high}): low must not exceed high.")
    seconds = rng(name).uniform(low, high)
    sleep(seconds)
    return seconds
