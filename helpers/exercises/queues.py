"""Self-checks for the exercises of ``05_queue.ipynb``: a two-stage pipeline, and a server behind a Pipe.

The pipeline check wires the learner's ``stage`` twice between a source and a sink of its own and
judges by what reached the sink (every number, transformed, in order) and by the accounting of each
queue (every item, stop signal included, got exactly once). The server check talks to the learner's
server over a traced Pipe from a client of its own and compares every reply with the right answer.
"""
from __future__ import annotations

from .. import facts, settings
from ..primitives import Pipe, Queue
from ..runner import Worker, run

_ITEMS = [7, 3, 9, 1, 4, 8, 2, 6, 5, 10]  # not sorted, so a stage that reorders is caught
_REPLY_TIMEOUT = 2.0  # seconds the client waits for each reply


def _deadline() -> float:
    return 4.0 + 10.0 * settings.time_scale()


def double(x):
    """Stage 1's work."""
    return 2 * x


def add_one(x):
    """Stage 2's work."""
    return x + 1


def source(outbox, items) -> None:
    """Worker of the pipeline check: put the items, then the stop signal ``None``."""
    for item in items:
        settings.sleep(0.1)
        outbox.put(item)
    outbox.put(None)


def sink(inbox) -> list:
    """Worker of the pipeline check: collect results until ``None``; return them in arrival order."""
    results = []
    while True:
        item = inbox.get()
        if item is None:
            return results
        results.append(item)


def client(conn, numbers) -> list:
    """Worker of the server check: ask for each number's square, collect the replies, then say bye (None)."""
    replies = []
    for n in numbers:
        conn.send(n)
        replies.append(conn.recv(timeout=_REPLY_TIMEOUT))
    conn.send(None)
    return replies


def _check_function(function, what: str) -> None:
    if not callable(function):
        raise TypeError(f"pass your {what} function itself, e.g. check({what}), not {type(function).__name__}.")


def _first_failure(result, stuck_hint: str) -> None:
    for w in result.workers:
        if w.status == "timeout":
            where = facts.blocked_in(result.trace, w.name)
            raise AssertionError(f"{w.name} never finished" + (f" (it was stuck in {where})" if where else "") + f": {stuck_hint}")
    for w in result.workers:
        if not w.ok:
            raise AssertionError(f"{w.name} failed with {w.error or w.status}. Run your function once by hand to see why.")


def check_stage(stage) -> None:
    """Exercise 1: ``stage(inbox, outbox, work)`` passes ``work(item)`` on, in order, and stops on None."""
    _check_function(stage, "stage")
    numbers, doubled, results = Queue(name="numbers"), Queue(name="doubled"), Queue(name="results")
    workers = [
        Worker(source, numbers, _ITEMS, name="source"),
        Worker(stage, numbers, doubled, double, name="doubler"),
        Worker(stage, doubled, results, add_one, name="adder"),
        Worker(sink, results, name="sink"),
    ]
    result = run(workers, timeout=_deadline(), output="none")
    _first_failure(result, (
        "a stage that gets None must pass None on to its outbox and return; otherwise the next stage "
        "(and the sink) wait for more forever."
    ))
    expected = [add_one(double(x)) for x in _ITEMS]
    got = result["sink"].value
    if sorted(got) != sorted(expected):
        raise AssertionError(f"the sink got {got}, expected {expected}: put work(item) on the outbox, once per item.")
    if got != expected:
        raise AssertionError(f"the sink got every result but in another order ({got}): handle one item at a time, in the order got.")
    for name in ("numbers", "doubled", "results"):
        acc = facts.accounting(result.trace, name)
        if not acc.exactly_once or acc.put != len(_ITEMS) + 1:
            raise AssertionError(
                f"queue {name!r}: {acc.put} put, {acc.got} got, {acc.lost} lost, {acc.duplicated} duplicated; "
                f"expected {len(_ITEMS)} numbers and one None through it, each got once. Pass None on exactly once."
            )
    print(f"✔ {len(_ITEMS)} numbers went through both stages in order, and every item and stop signal was got exactly once.")


def check_server(server, numbers=(3, 12, 5, 0, 7)) -> None:
    """Exercise 2: ``server(conn)`` replies ``n * n`` to every number it receives and returns on None."""
    _check_function(server, "server")
    numbers = list(numbers)
    client_end, server_end = Pipe(name="line")
    result = run(
        [Worker(client, client_end, numbers, name="client"), Worker(server, server_end, name="server")],
        timeout=_deadline(), output="none",
    )
    if result["client"].status == "error" and "TimeoutError" in (result["client"].error or ""):
        raise AssertionError(
            f"the client sent a number and no reply came within {_REPLY_TIMEOUT:g} s: answer each "
            "conn.recv() with one conn.send(reply)."
        )
    _first_failure(result, "when the server receives None (the client's goodbye) it must return.")
    replies = result["client"].value
    expected = [n * n for n in numbers]
    if replies != expected:
        raise AssertionError(f"the client asked for the squares of {numbers} and got {replies}: reply n * n to each n.")
    acc = facts.accounting(result.trace, "line")
    if not acc.exactly_once or acc.put != 2 * len(numbers) + 1:
        raise AssertionError(
            f"Pipe 'line': {acc.put} sent, {acc.got} received, {acc.lost} never received: send exactly one reply "
            "per request, and no reply to None."
        )
    print(f"✔ {len(numbers)} requests, {len(numbers)} correct replies, and the server stopped when the client said goodbye.")
