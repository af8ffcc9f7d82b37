"""Self-checks for the exercises of ``03_semaphore.ipynb``: a connection pool, and a rendezvous.

The pool check starts every request at the same moment and reads from the trace how many were
connected to the database at once (and whether each connection was made while holding a permit of
the pool). The rendezvous check runs the learner's two workers twice, once with A slow and once
with B slow, and reads the order of the four statements from the trace.
"""
from __future__ import annotations

import time

from .. import facts
from ..primitives import Semaphore
from ..runner import Worker, run
from ..settings import sleep_random
from ..trace import phase
from .lock import start_gun, start_together

_START_TIMEOUT = 20.0


class Database:
    """A database that serves ``query(n)``; each query is one connection, recorded as the phase "connected".

    It allows ``limit`` connections at once; the check reads from the trace whether that was respected.
    """

    def __init__(self, limit: int = 3):
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"Database(limit={limit!r}): the limit must be a whole number of at least 1.")
        self.limit = limit

    def query(self, n):
        with phase("connected"):
            sleep_random(0.5, 1.5)
        return f"result {n}"


def _check_traced_semaphore(pool) -> None:
    if not isinstance(pool, Semaphore):
        raise TypeError(
            f"pass the pool you made with helpers.Semaphore(...), not {type(pool).__name__}: "
            "the check reads the traced semaphore's holds from the trace."
        )


def check_pool(handle_request, pool, requests: int = 8, limit: int = 3) -> None:
    """Exercise 1: ``handle_request(n, pool, db)`` with ``pool`` a helpers.Semaphore sized for ``limit``."""
    if not callable(handle_request):
        raise TypeError(f"pass your function itself, e.g. check_pool(handle_request, pool), not {type(handle_request).__name__}.")
    _check_traced_semaphore(pool)
    db = Database(limit)
    names = [f"request {n}" for n in range(requests)]
    gun = start_gun(len(names))
    result = run(
        [Worker(start_together, gun, handle_request, n, pool, db, name=name) for n, name in enumerate(names)],
        timeout=60, output="none",
    )
    failed = [w for w in result.workers if not w.ok]
    if failed:
        w = failed[0]
        raise AssertionError(f"{w.name} did not finish: {w.error or w.status}. Every acquire() needs its release(): use `with pool:`.")
    unserved = [name for n, name in enumerate(names) if result[name].value != f"result {n}"]
    if unserved:
        raise AssertionError(f"{unserved[0]} returned {result[unserved[0]].value!r}: return what db.query(n) returns.")
    trace = result.trace
    most = facts.max_in_phase(trace, "connected")
    if most > limit:
        raise AssertionError(
            f"{most} requests were connected at once, but the database allows {limit}: "
            f"make the pool a Semaphore({limit}) and query only inside `with pool:`."
        )
    try:
        holds = facts.hold_spans(trace, pool.name)
    except ValueError:  # the pool was never used
        holds = []
    for span in facts.spans(trace):
        if span.kind == "phase" and span.label == "connected":
            if not any(h.worker == span.worker and h.start <= span.start and span.end <= h.end for h in holds):
                raise AssertionError(f"{span.worker} queried the database without holding a permit of the pool: query inside `with pool:`.")
    if most < limit:
        raise AssertionError(
            f"at most {most} request(s) were connected at once, but the database allows {limit}: "
            f"the pool is too small, so requests wait for nothing. Size it Semaphore({limit})."
        )
    print(f"✔ all {requests} requests were served, never more than {most} connected at once (the database allows {limit}).")


class Step:
    """``step("a1")`` runs statement a1: a phase on the timeline; statements in ``slow`` take a while."""

    def __init__(self, slow=()):
        self.slow = set(slow)

    def __call__(self, statement: str) -> None:
        if not isinstance(statement, str):
            raise TypeError(f"step() takes the statement's name, e.g. step('a1'), not {type(statement).__name__}.")
        with phase(statement):
            time.sleep(0.2 if statement in self.slow else 0.001)  # real seconds: longer than any start-up skew


def _statement_spans(trace) -> dict:
    found: dict = {}
    for span in facts.spans(trace):
        if span.kind == "phase":
            found.setdefault(span.label, []).append(span)
    return found


def check_rendezvous(a, b) -> None:
    """Exercise 2: a1 before b2 and b1 before a2, whichever worker is slow."""
    for function, name in ((a, "a"), (b, "b")):
        if not callable(function):
            raise TypeError(f"pass your two functions, e.g. check_rendezvous(a, b); {name} is {type(function).__name__}.")
    for slow in ("a1", "b1"):
        a_arrived, b_arrived = Semaphore(0, name="a arrived"), Semaphore(0, name="b arrived")
        step = Step(slow=[slow])
        gun = start_gun(2)
        result = run(
            [Worker(start_together, gun, a, step, a_arrived, b_arrived, name="A"),
             Worker(start_together, gun, b, step, a_arrived, b_arrived, name="B")],
            timeout=5, output="none",
        )
        stuck = [w.name for w in result.workers if w.status == "timeout"]
        if stuck:
            raise AssertionError(
                f"{' and '.join(stuck)} waited forever (a deadlock): if both wait before signalling, each waits "
                "for the other. Signal your arrival (release) first, then wait for the other's (acquire)."
            )
        failed = [w for w in result.workers if not w.ok]
        if failed:
            raise AssertionError(f"{failed[0].name} failed: {failed[0].error or failed[0].status}.")
        spans = _statement_spans(result.trace)
        for statement in ("a1", "a2", "b1", "b2"):
            if len(spans.get(statement, [])) != 1:
                raise AssertionError(f"call step({statement!r}) exactly once (it was called {len(spans.get(statement, []))} times).")
        for first, then in (("a1", "b2"), ("b1", "a2")):
            if not spans[first][0].end <= spans[then][0].start:
                raise AssertionError(
                    f"with {slow} slow, {then} started before {first} had finished. Before {then}, wait for "
                    f"the other worker's arrival (acquire its semaphore); after {first}, announce yours (release)."
                )
    print("✔ a1 came before b2 and b1 before a2, whether A or B was the slow one.")
