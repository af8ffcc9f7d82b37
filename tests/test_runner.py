"""helpers.run: workers on every start method, their output, their failures, deadlines, cleanup, bad input."""
import os
import signal
import sys
import threading
import time

import dill
import psutil
import pytest

import helpers
from helpers import Worker, run, settings

SCALE = 10


def square(n, *ignored):
    return n * n * SCALE // SCALE


def chatty(n):
    print(f"line one from {n}")
    print("two\nlines", file=sys.stderr)
    sys.stdout.write("no newline at the end")


def failing():
    raise ValueError("the ticket file is missing")


def exits_with(code):
    os._exit(code)


def kills_itself():
    os.kill(os.getpid(), signal.SIGKILL)


def waits_forever(event):
    event.wait()


def prints_in_critical_section(lock, n):
    with lock:
        print(f"{n} enters")
        helpers.sleep(0.02)
        print(f"{n} leaves")


def draws_random():
    return [helpers.rng().random() for _ in range(3)]


def starts_a_grandchild(ready):
    ctx = settings.context()
    child = ctx.Process(target=time.sleep, args=(60,))
    child.start()
    ready.put(child.pid)
    time.sleep(60)


class Greeter:
    def __init__(self, word):
        self.word = word

    def __call__(self, name):
        return f"{self.word}, {name}"


def test_values_names_and_status(start_method):
    result = run([Worker(square, i, name=f"worker {i}") for i in range(3)], timeout=30)
    assert result.ok
    assert result.start_method == start_method
    assert result.values == {"worker 0": 0, "worker 1": 1, "worker 2": 4}
    assert [w.exitcode for w in result.workers] == [0, 0, 0]


def test_unnamed_workers_are_numbered_by_function(start_method):
    result = run([Worker(square, 1), Worker(square, 2), Worker(failing)], timeout=30, output="none")
    assert [w.name for w in result.workers] == ["square-0", "square-1", "failing"]


def test_lambdas_and_instances_as_targets(start_method):
    result = run([Worker(lambda x: x + 1, 41, name="lambda"), Worker(Greeter("hello"), "class", name="callable")], timeout=30)
    assert result.values == {"lambda": 42, "callable": "hello, class"}


def test_output_comes_back_prefixed_in_whole_lines(start_method, capsys):
    result = run([Worker(chatty, 7, name="talker")], timeout=30)
    out, err = capsys.readouterr()
    assert out.splitlines() == ["talker: line one from 7", "talker: no newline at the end"]
    assert err.splitlines() == ["talker: two", "talker: lines"]
    assert result["talker"].lines("stdout") == ["line one from 7", "no newline at the end"]
    assert str(os.getpid()) not in out + err


def test_exception_is_reported_as_type_and_message(start_method, capsys):
    result = run([Worker(failing, name="buyer")], timeout=30)
    err = capsys.readouterr().err
    assert err.strip() == "buyer: ValueError: the ticket file is missing"
    assert result["buyer"].status == "error"
    assert result["buyer"].exitcode == 1
    assert "File " not in err and "\x1b[" not in err


def test_exit_code_and_signal_are_reported(start_method, capsys):
    result = run([Worker(exits_with, 3, name="quitter"), Worker(kills_itself, name="victim")], timeout=30)
    err = capsys.readouterr().err
    assert "quitter: died with exit code 3" in err
    assert "victim: died with exit code -9 (killed by SIGKILL)" in err
    assert result["quitter"].status == result["victim"].status == "exit"


def test_deadline_stops_a_stuck_worker_and_names_what_it_waited_for(start_method, capsys):
    never = helpers.Event("never set")
    began = time.monotonic()
    result = run([Worker(waits_forever, never, name="car 1"), Worker(square, 3, name="quick")], timeout=1.5)
    assert time.monotonic() - began < 10
    err = capsys.readouterr().err
    assert "car 1: did not finish within 1.5 s (waiting in wait() on Event 'never set'); it was stopped." in err
    assert result["car 1"].status == "timeout"
    assert result["quick"].ok


def test_interrupt_stops_every_worker(start_method):
    never = helpers.Event()
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run([Worker(waits_forever, never, name=f"w{i}") for i in range(3)], timeout=30, output="none")
    finally:
        timer.cancel()
    assert helpers.leftovers() == []


def test_what_a_worker_started_is_stopped_too(start_method):
    ready = helpers.Queue()
    result = run([Worker(starts_a_grandchild, ready, name="server")], timeout=3, output="none")
    grandchild = ready.get(timeout=5)
    assert result["server"].status == "timeout"
    assert not psutil.pid_exists(grandchild)


def test_lines_from_all_workers_come_in_time_order(start_method, capsys):
    lock = helpers.Lock("printer")
    run([Worker(prints_in_critical_section, lock, i, name=f"w{i}") for i in range(4)], timeout=30)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 8
    for enters, leaves in zip(lines[::2], lines[1::2]):
        name = enters.split(":")[0]
        assert enters.endswith("enters") and leaves == f"{name}: {leaves.split(': ')[1]}" and leaves.endswith("leaves")


def test_seeded_random_repeats_on_every_start_method(start_method):
    result = run([Worker(draws_random, name="group 1"), Worker(draws_random, name="group 2")], timeout=30)
    settings.reset_random()
    expected = [settings.rng("group 1").random() for _ in range(3)]
    assert result["group 1"].value == expected
    assert result["group 1"].value != result["group 2"].value


def test_dill_recurse_setting_does_not_leak(start_method):
    before = dill.settings["recurse"]
    run([Worker(square, 2)], timeout=30)
    assert dill.settings["recurse"] == before


def test_background_run_can_be_stopped(start_method):
    never = helpers.Event()
    with helpers.start([Worker(waits_forever, never, name="listener")], output="none") as running:
        running.poll(0.2)
        result = running.stop()
    assert result["listener"].status == "stopped"


def test_time_scale_scales_sleep(monkeypatch):
    monkeypatch.setenv("COURSE_TIME_SCALE", "0.01")
    began = time.monotonic()
    helpers.sleep(2)
    assert time.monotonic() - began < 0.5
    helpers.set_time_scale(1)
    assert helpers.time_scale() == 1.0


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: run([]), ValueError, "at least one worker"),
        (lambda: run([42]), TypeError, "Worker(function"),
        (lambda: run(42), TypeError, "list of Worker"),
        (lambda: run([square], timeout=0), ValueError, "greater than 0"),
        (lambda: run([square], timeout=-1), ValueError, "greater than 0"),
        (lambda: run([square], timeout="1"), TypeError, "number of seconds"),
        (lambda: run([square], start_method="threads"), ValueError, "unknown start method"),
        (lambda: run([square], output="loud"), ValueError, "'live'"),
        (lambda: run([Worker(square, 1, name="a"), Worker(square, 2, name="a")]), ValueError, "own name"),
        (lambda: Worker("square"), TypeError, "function to run"),
        (lambda: Worker(square, name=""), TypeError, "non-empty string"),
        (lambda: helpers.sleep(-1), ValueError, "negative"),
        (lambda: helpers.set_time_scale(0), ValueError, "greater than 0"),
    ],
)
def test_bad_input_gets_a_sentence(call, error, words):
    with pytest.raises(error, match=None) as caught:
        call()
    assert words in str(caught.value)


def test_unpicklable_argument_is_refused_before_anything_starts(monkeypatch):
    monkeypatch.setenv("COURSE_START_METHOD", "spawn")
    with pytest.raises(TypeError, match="cannot be sent to a new process"):
        run([Worker(square, (x for x in range(3)), name="bad")], timeout=5)


@pytest.mark.parametrize("variable, value, words", [
    ("COURSE_START_METHOD", "threads", "unknown start method"),
    ("COURSE_TIME_SCALE", "-1", "greater than 0"),
    ("COURSE_TIME_SCALE", "fast", "not a number"),
])
def test_bad_environment_gets_a_sentence(monkeypatch, variable, value, words):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=words):
        run([square], timeout=5)


class SlowToArrive:
    """Takes a second to unpickle in the child: like a slow interpreter start under load."""

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        time.sleep(1.0)


def test_deadline_counts_from_when_workers_started_not_from_process_start_up(monkeypatch):
    monkeypatch.setenv("COURSE_START_METHOD", "spawn")
    result = run([Worker(square, 3, SlowToArrive(), name=f"late {i}") for i in range(2)], timeout=0.5)
    assert result.ok, [w.error for w in result.workers]
