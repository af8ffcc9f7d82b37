"""Traced primitives: they behave like multiprocess's own, and the trace says what really happened."""
import os
import queue
import signal

import pytest

import helpers
from helpers import Worker, facts, run


def critical_section(lock, hold=0.05, barrier=None):
    if barrier is not None:
        barrier.wait(timeout=10)  # everyone asks at once, so someone must wait
    with lock:
        with helpers.phase("inside"):
            helpers.sleep(hold)


def unprotected(barrier, hold=0.05):
    barrier.wait(timeout=10)
    with helpers.phase("inside"):
        helpers.sleep(hold)


def nested(rlock):
    with rlock:
        with rlock:
            helpers.sleep(0.01)


def holds_then_dies(lock):
    lock.acquire()
    helpers.mark("about to die")
    os.kill(os.getpid(), signal.SIGKILL)


def producer(q, items):
    for item in items:
        q.put(item, timeout=5)
    q.put(None, timeout=5)


def consumer(q):
    got = []
    while (item := q.get(timeout=10)) is not None:
        got.append(item)
    return got


def waiter(event):
    return event.wait(timeout=10)


def notifier(cond, flag):
    with cond:
        flag.set()
        cond.notify_all()


def pipe_echo(end):
    end.send(end.recv(timeout=10) * 2)


def test_lock_gives_mutual_exclusion(start_method):
    lock = helpers.Lock("printer")
    barrier = helpers.Barrier(4)
    result = run([Worker(critical_section, lock, 0.05, barrier, name=f"w{i}") for i in range(4)], timeout=30)
    assert result.ok
    trace = result.trace
    assert facts.max_holders(trace, "printer") == 1
    assert facts.mutual_exclusion(trace, "printer")
    assert facts.max_in_phase(trace, "inside") == 1
    assert sorted(facts.acquisition_order(trace, "printer")) == ["w0", "w1", "w2", "w3"]
    assert all(v >= 0 for v in facts.time_waiting(trace).values())
    assert sum(facts.time_waiting(trace).values()) > 0  # someone had to wait
    assert facts.describe(trace, "printer") == "Lock 'printer': 4 acquisitions by 4 workers, at most 1 holding at once (mutual exclusion held)."


def test_without_a_lock_the_trace_shows_overlap(start_method):
    barrier = helpers.Barrier(3, name="start")
    result = run([Worker(unprotected, barrier, name=f"w{i}") for i in range(3)], timeout=30)
    assert facts.max_in_phase(result.trace, "inside") == 3
    assert "Barrier 'start' (3 parties): 3 arrivals, 3 passed." in result.summary()


def test_semaphore_limits_holders(start_method):
    rooms = helpers.Semaphore(2, name="rooms")
    barrier = helpers.Barrier(5)
    result = run([Worker(critical_section, rooms, 0.1, barrier, name=f"group {i}") for i in range(5)], timeout=30)
    assert facts.max_holders(result.trace, "rooms") == 2
    assert facts.mutual_exclusion(result.trace, "rooms")
    assert "at most 2 holding at once (limit of 2 respected)" in result.summary()


def test_rlock_nested_acquires_count_as_one_hold(start_method):
    rlock = helpers.RLock("r")
    result = run([Worker(nested, rlock, name=f"w{i}") for i in range(2)], timeout=30)
    assert len(facts.hold_spans(result.trace, "r")) == 2
    assert facts.max_holders(result.trace, "r") == 1


def test_queue_accounting_every_item_once(start_method):
    q = helpers.Queue(maxsize=2, name="buffer")
    result = run([Worker(producer, q, list(range(10)), name="cook"), Worker(consumer, q, name="eater")], timeout=30)
    assert result["eater"].value == list(range(10))
    acc = facts.accounting(result.trace, "buffer")
    assert (acc.put, acc.got, acc.lost, acc.duplicated, acc.exactly_once) == (11, 11, 0, 0, True)
    lengths = [n for _, n in facts.queue_length_over_time(result.trace, "buffer")]
    assert min(lengths) >= 0 and max(lengths) <= 3  # one item may sit in the pipe besides the bound
    assert "Queue 'buffer': 11 put, 11 got; every item got exactly once." in result.summary()


def test_queue_accounting_sees_a_lost_item(start_method):
    q = helpers.JoinableQueue(name="jobs")
    q.put("never taken")
    q.put("taken")
    result = run([Worker(lambda q: q.get(timeout=5), q, name="taker")], timeout=30)
    trace = helpers.trace.read_trace(result.start - 10**9 * 60, result.end)
    acc = facts.accounting(trace, "jobs")
    assert acc.put == 2 and acc.got == 1 and acc.lost == 1 and not acc.exactly_once


def test_joinable_queue_join_and_task_done(start_method):
    q = helpers.JoinableQueue(name="jobs")

    def worker(q):
        for _ in range(3):
            q.get(timeout=5)
            q.task_done()

    for i in range(3):
        q.put(i)
    result = run([Worker(worker, q, name="w")], timeout=30)
    assert result.ok
    assert q.join(timeout=5) is True
    with pytest.raises(ValueError, match="task_done"):
        q.task_done()


def test_event_records_set_clear_and_waits(start_method):
    with helpers.recording() as rec:
        light = helpers.Event("green")
        assert light.wait(timeout=0.01) is False
        light.set()
        assert light.is_set()
        result = run([Worker(waiter, light, name="car")], timeout=30)
        light.clear()
    assert result["car"].value is True
    line = facts.describe(rec.trace, "green")
    assert line == "Event 'green': set 1 times, cleared 1 times; 2 waits, 1 timed out."


def test_condition_wait_and_notify(start_method):
    cond = helpers.Condition(name="cond")
    flag = helpers.Event("flag")

    def wait_for_flag(cond, flag):
        with cond:
            return cond.wait_for(flag.is_set, timeout=10)

    result = run([Worker(wait_for_flag, cond, flag, name="waiter"), Worker(notifier, cond, flag, name="notifier")], timeout=30)
    assert result["waiter"].value is True
    assert facts.mutual_exclusion(result.trace, "cond")


def test_pipe_send_and_recv_are_traced(start_method):
    here, there = helpers.Pipe(name="line")
    with helpers.start([Worker(pipe_echo, there, name="echo")]) as running:
        here.send(21)
        assert here.recv(timeout=10) == 42
        result = running.wait(10)
    trace = helpers.trace.read_trace(result.start, result.end)
    assert facts.accounting(trace, "line").exactly_once
    with pytest.raises(TimeoutError, match="nothing arrived"):
        here.recv(timeout=0.05)


def test_events_before_a_sigkill_are_kept(start_method):
    lock = helpers.Lock("doomed")
    result = run([Worker(holds_then_dies, lock, name="victim")], timeout=30)
    assert result["victim"].exitcode == -signal.SIGKILL
    kinds = [e.kind for e in result.trace.events if e.worker == "victim"]
    assert kinds[:4] == ["start", "ask", "got", "mark"]
    holds = facts.hold_spans(result.trace, "doomed")
    assert len(holds) == 1 and holds[0].open


def test_plain_multiprocess_processes_are_traced(start_method):
    lock = helpers.Lock("plain")
    ctx = helpers.settings.context()
    with helpers.recording() as rec:
        processes = [ctx.Process(target=critical_section, args=(lock, 0.01)) for _ in range(3)]
        for p in processes:
            p.start()
        for p in processes:
            p.join(10)
    assert all(p.exitcode == 0 for p in processes)
    assert len(facts.hold_spans(rec.trace, "plain")) == 3
    assert facts.mutual_exclusion(rec.trace, "plain")


def test_summary_is_deterministic_and_timeless(start_method):
    summaries = []
    for _ in range(2):
        lock = helpers.Lock("same")
        summaries.append(run([Worker(critical_section, lock, 0.01, name=f"w{i}") for i in range(3)], timeout=30).summary())
    assert summaries[0] == summaries[1]
    assert not any(ch in summaries[0] for ch in "µ") and " s " not in summaries[0]


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: helpers.Semaphore(-1), ValueError, "cannot be negative"),
        (lambda: helpers.Semaphore("4"), TypeError, "whole number"),
        (lambda: helpers.BoundedSemaphore(True), TypeError, "whole number"),
        (lambda: helpers.Queue(-1), ValueError, "unbounded"),
        (lambda: helpers.Barrier(0), ValueError, "at least 1"),
        (lambda: helpers.Lock(name=3), TypeError, "non-empty string"),
        (lambda: helpers.Lock().acquire(timeout=-1), None, None),
        (lambda: helpers.Event().wait(timeout=-1), ValueError, "must not be negative"),
        (lambda: helpers.Queue().get(timeout="soon"), TypeError, "number of seconds"),
        (lambda: helpers.mark(5), TypeError, "string label"),
    ],
)
def test_bad_input_gets_a_sentence(make, error, words):
    if error is None:
        assert make() is True  # a free lock is taken at once, whatever the timeout
        return
    with pytest.raises(error) as caught:
        make()
    assert words in str(caught.value)


def test_bounded_semaphore_refuses_an_extra_release():
    sem = helpers.BoundedSemaphore(1, name="bounded")
    sem.acquire()
    sem.release()
    with pytest.raises(ValueError, match="released more times than it was acquired"):
        sem.release()
    plain = helpers.Semaphore(1, name="plain")
    plain.release()  # silently accepted: now 2 permits
    assert plain.get_value() == 2


def test_unknown_primitive_name_lists_the_known_ones(start_method):
    lock = helpers.Lock("known")
    result = run([Worker(critical_section, lock, 0.01)], timeout=30)
    with pytest.raises(ValueError, match="'known'"):
        facts.max_holders(result.trace, "unknown")
    with pytest.raises(ValueError, match="no phase named"):
        facts.max_in_phase(result.trace, "nope")


def test_queue_empty_and_full_are_the_queue_modules_exceptions():
    q = helpers.Queue(1, name="tiny")
    with pytest.raises(queue.Empty):
        q.get(timeout=0.01)
    q.put(1)
    with pytest.raises(queue.Full):
        q.put(2, block=False)
    assert q.get(timeout=5) == 1


def test_a_get_that_fails_is_not_reported_as_still_waiting():
    with helpers.recording() as rec:
        here, there = helpers.Pipe(name="closing")
        there.close()
        with pytest.raises(EOFError):
            here.recv()
        quiet, other_end = helpers.Pipe(name="quiet")
        with pytest.raises(TimeoutError):
            quiet.recv(timeout=0.01)
    assert facts.blocked_in(rec.trace, "main") is None
    waits = [s for s in facts.spans(rec.trace) if s.kind == "waiting" and s.label == "get() on Pipe 'quiet'"]
    assert len(waits) == 1 and waits[0].seconds >= 0.005


def test_abandoned_trace_directories_are_removed(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    abandoned = tmp_path / "course-trace-999999999-abc"
    ours = tmp_path / f"course-trace-{os.getpid()}-def"
    abandoned.mkdir()
    ours.mkdir()
    helpers.trace._remove_abandoned_session_dirs()
    assert not abandoned.exists() and ours.exists()
