"""``python -m helpers.bench``: what helpers costs, measured in one run, printed as one JSON object.

- process start time per start method (forkserver with helpers preloaded, spawn, fork);
- a 5-worker demo (the KTV: 5 groups, 4 rooms, songs of known lengths) through ``helpers.run``
  vs the same demo written with plain multiprocess, at COURSE_TIME_SCALE=1;
- a traced vs a raw multiprocess Lock, acquire + release, uncontended;
- the same 5-worker demo with traced vs untraced primitives.

The README records the figures; run it again after changing the runner or the recorder.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
import timeit

SONGS = [1.0, 1.2, 0.8, 1.1, 0.9]  # seconds each group sings in the demo


def _nothing():
    pass


def _sing(rooms, seconds):
    with rooms:
        time.sleep(seconds)


def start_time_ms(method: str, repeats: int) -> float:
    """Median milliseconds to start and join a process that does nothing."""
    from . import settings

    ctx = settings.context(method)
    warm = ctx.Process(target=_nothing)  # the forkserver starts (and preloads) on first use
    warm.start()
    warm.join(30)
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        p = ctx.Process(target=_nothing)
        p.start()
        p.join(30)
        times.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(times), 2)


def demo_plain(method: str) -> float:
    """The KTV demo with plain multiprocess: start 5 processes, join them."""
    from . import settings

    ctx = settings.context(method)
    rooms = ctx.Semaphore(4)
    began = time.perf_counter()
    processes = [ctx.Process(target=_sing, args=(rooms, s)) for s in SONGS]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
    return time.perf_counter() - began


def demo_helpers(method: str, traced: bool) -> float:
    """The same demo through helpers.run, with traced or raw primitives."""
    from . import primitives, runner, settings

    rooms = primitives.Semaphore(4, name="rooms") if traced else settings.context(method).Semaphore(4)
    began = time.perf_counter()
    result = runner.run(
        [runner.Worker(_sing, rooms, s, name=f"group {i}") for i, s in enumerate(SONGS)],
        timeout=60, start_method=method, output="none",
    )
    elapsed = time.perf_counter() - began
    if not result.ok:
        raise RuntimeError(f"the demo failed: {result!r}")
    return elapsed


def lock_ns(method: str) -> dict:
    """Nanoseconds per uncontended acquire + release, raw vs traced, as `with` and as calls."""
    from . import primitives, settings, trace

    raw = settings.context(method).Lock()
    traced = primitives.Lock("bench")
    n = 4000  # stays inside one trace chunk, so file creation is not what we time

    def best(stmt, lock):
        runs = []
        for _ in range(25):
            trace._pos = 0  # reuse the chunk: we time the recording, not page faults
            runs.append(timeit.timeit(stmt, globals={"lock": lock}, number=n))
        return min(runs) / n * 1e9

    with_raw, with_traced = best("with lock: pass", raw), best("with lock: pass", traced)
    calls_raw = best("lock.acquire(); lock.release()", raw)
    calls_traced = best("lock.acquire(); lock.release()", traced)
    return {
        "with_statement_raw_ns": round(with_raw), "with_statement_traced_ns": round(with_traced),
        "with_statement_ratio": round(with_traced / with_raw, 2),
        "calls_raw_ns": round(calls_raw), "calls_traced_ns": round(calls_traced),
        "calls_ratio": round(calls_traced / calls_raw, 2),
    }


def main() -> dict:
    os.environ["COURSE_TIME_SCALE"] = "1.0"
    from . import settings

    methods = [m for m in ("forkserver", "spawn", "fork") if m in __import__("multiprocess").get_all_start_methods()]
    method = settings.start_method()
    figures = {
        "machine": {"python": platform.python_version(), "platform": sys.platform, "cpus": os.cpu_count()},
        "process_start_ms": {m: start_time_ms(m, 5 if m == "spawn" else 20) for m in methods},
        "demo": {"workers": len(SONGS), "rooms": 4, "start_method": method, "time_scale": 1.0},
    }
    plain = min(demo_plain(method) for _ in range(3))
    untraced = min(demo_helpers(method, traced=False) for _ in range(3))
    traced = min(demo_helpers(method, traced=True) for _ in range(3))
    figures["demo"].update({
        "plain_multiprocess_s": round(plain, 3),
        "helpers_untraced_s": round(untraced, 3),
        "helpers_traced_s": round(traced, 3),
        "helpers_vs_plain": round(untraced / plain, 3),
        "traced_vs_untraced": round(traced / untraced, 3),
    })
    figures["lock"] = lock_ns(method)
    return figures


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
