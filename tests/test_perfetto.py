"""Perfetto export: valid Chrome trace JSON, one named track per worker, counters that respect the limit."""
import json

import pytest

import helpers
from helpers import Worker, facts
from helpers.perfetto import to_perfetto
from helpers.trace import Trace


def clerk(lock, start_line):
    start_line.wait(timeout=10)  # everyone asks at once, so some must wait
    for _ in range(3):
        with lock:
            with helpers.phase("stamping"):
                helpers.sleep(0.05)
    helpers.mark("done")


def singer(rooms, door):
    door.wait(timeout=10)
    with rooms:
        helpers.sleep(0.2)


def cook(plates, n):
    for i in range(n):
        plates.put(i, timeout=10)
    plates.put(None, timeout=10)


def eater(plates):
    while plates.get(timeout=10) is not None:
        helpers.sleep(0.02)


@pytest.fixture(scope="module")
def lock_run():
    lock, start_line = helpers.Lock(name="stamp"), helpers.Barrier(3, name="start line")
    result = helpers.run([Worker(clerk, lock, start_line, name=f"clerk {i}") for i in (1, 2, 3)],
                         timeout=30, output="none")
    assert result.ok
    return result


@pytest.fixture(scope="module")
def semaphore_run():
    rooms, door = helpers.Semaphore(2, name="rooms"), helpers.Barrier(4, name="door")
    result = helpers.run([Worker(singer, rooms, door, name=f"group {i}") for i in (1, 2, 3, 4)],
                         timeout=30, output="none")
    assert result.ok
    return result


@pytest.fixture(scope="module")
def queue_run():
    plates = helpers.Queue(2, name="plates")
    result = helpers.run([Worker(cook, plates, 10, name="cook"), Worker(eater, plates, name="eater")],
                         timeout=30, output="none")
    assert result.ok
    return result


def counter_values(data, name):
    return [value for e in data["traceEvents"] if e["ph"] == "C" and e["name"] == name for value in e["args"].values()]


@pytest.mark.parametrize("run", ["lock_run", "semaphore_run", "queue_run"])
def test_every_event_is_well_formed(run, request):
    data = to_perfetto(request.getfixturevalue(run))
    assert data["displayTimeUnit"] == "ms"
    assert data["traceEvents"]
    for e in data["traceEvents"]:
        assert {"name", "ph", "ts", "pid", "tid"} <= e.keys(), e
        assert e["ph"] in {"X", "i", "C", "M"}, e
        assert e["pid"] == 1 and e["ts"] >= 0
        if e["ph"] == "X":
            assert e["dur"] >= 0
    assert json.loads(json.dumps(data)) == data


def test_tracks_are_named_after_workers_in_run_order(lock_run):
    data = to_perfetto(lock_run)
    names = {e["tid"]: e["args"]["name"] for e in data["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"}
    assert [names[tid] for tid in sorted(names)][:3] == ["clerk 1", "clerk 2", "clerk 3"]
    assert set(names.values()) == set(lock_run.trace.workers)
    # No real PID anywhere: every event sits in logical process 1 on a worker's track (or 0 for counters).
    assert {e["tid"] for e in data["traceEvents"]} <= set(names) | {0}


def test_spans_instants_and_counters_are_all_there(lock_run):
    data = to_perfetto(lock_run.trace)
    by_kind = {}
    for e in data["traceEvents"]:
        by_kind.setdefault(e["ph"], []).append(e["name"])
    assert "holding Lock 'stamp'" in by_kind["X"] and "stamping" in by_kind["X"] and "running" in by_kind["X"]
    assert any(name.startswith("waiting in acquire() on Lock 'stamp'") for name in by_kind["X"])
    assert by_kind["i"].count("done") == 3
    assert "Lock 'stamp' holders" in by_kind["C"]
    holds = [e for e in data["traceEvents"] if e["ph"] == "X" and e["name"] == "holding Lock 'stamp'"]
    assert len(holds) == 9


def test_counters_never_exceed_the_limit(lock_run, semaphore_run):
    assert max(counter_values(to_perfetto(lock_run), "Lock 'stamp' holders")) == 1
    rooms = counter_values(to_perfetto(semaphore_run), "Semaphore 'rooms' holders")
    assert max(rooms) == facts.max_holders(semaphore_run.trace, "rooms") == 2
    assert min(rooms) == 0


def test_queue_instants_and_length(queue_run):
    data = to_perfetto(queue_run)
    names = [e["name"] for e in data["traceEvents"] if e["ph"] == "i"]
    assert names.count("put Queue 'plates'") == names.count("get Queue 'plates'") == 11
    lengths = counter_values(data, "Queue 'plates' items inside")
    assert lengths[-1] == 0


def test_path_writes_a_file_perfetto_can_open(lock_run, tmp_path):
    path = tmp_path / "run.json"
    data = lock_run.trace.to_perfetto(str(path))
    assert json.loads(path.read_text(encoding="utf-8")) == data


def test_empty_trace_gives_only_metadata():
    data = to_perfetto(Trace([], {}, [], 0, 1))
    assert [e["ph"] for e in data["traceEvents"]] == ["M"]


@pytest.mark.parametrize("args", [("not a trace",), (None,)])
def test_wrong_trace_is_a_type_error(args):
    with pytest.raises(TypeError, match="run's result or its trace"):
        to_perfetto(*args)


def test_wrong_path_is_a_type_error(lock_run):
    with pytest.raises(TypeError, match="file name"):
        to_perfetto(lock_run, path=42)
