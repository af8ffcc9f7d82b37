"""Self-checks for the exercises of ``02_lock.ipynb``: a ticket buyer with a bug, and tickets put back.

Both checks run the learner's function in several workers against a :class:`~helpers.tickets.TicketStore`
whose reads and writes are marked in the trace, and make the unlucky timing certain: every worker
starts at the same moment, and the ``pause()`` the learner calls between reading and writing holds
each caller until every worker has read (or until it is clear that the others cannot get there,
because the caller holds the lock). Then they judge what happened: the tickets counted, and, from the
trace, whether every read and the write that follows it happened inside one hold of the lock.
"""
from __future__ import annotations

import threading
import time

from .. import facts, settings
from ..runner import Worker, run
from ..primitives import Lock
from ..tickets import TicketStore
from ..trace import mark

_START_TIMEOUT = 20.0  # seconds all workers get to start (spawn on a loaded machine is slow)
_PATIENCE = 0.5  # seconds a pause waits for the others before deciding they are kept out by a lock


class Pause:
    """What the learner calls between reading and writing: the moment another buyer gets in.

    Each call waits until every worker has paused: without a lock, all have read before anyone
    writes. A worker that holds the lock waits in vain (the others are kept out); after
    ``_PATIENCE`` seconds the meeting is called off, and from then on every pause is a short sleep.
    """

    def __init__(self, workers: int):
        self.meeting = settings.context().Barrier(workers)

    def __call__(self):
        mark("pause")
        if self.meeting.broken:
            time.sleep(0.002)  # still widens the gap, so a missing lock shows
            return
        try:
            self.meeting.wait(_PATIENCE)
        except threading.BrokenBarrierError:
            pass


class WatchedStore(TicketStore):
    """A TicketStore whose every read and write leaves a mark in the trace ("read 3", "wrote 2")."""

    def read(self) -> int:
        count = super().read()
        mark(f"read {count}")
        return count

    def write(self, count: int, **kwargs) -> None:
        super().write(count, **kwargs)
        mark(f"wrote {count}")


def start_gun(workers: int):
    """A Barrier the workers of a check pass together, so they start at one moment on any start method."""
    return settings.context().Barrier(workers)


def start_together(gun, function, *args):
    """Worker body of a check: wait for the start gun, then call the learner's function."""
    try:
        gun.wait(_START_TIMEOUT)
    except threading.BrokenBarrierError:
        raise RuntimeError("the other workers did not start in time") from None
    return function(*args)


def _check_function(function, what: str) -> None:
    if not callable(function):
        raise TypeError(f"pass your {what} function itself, e.g. check(buy_ticket), not {type(function).__name__}.")


def _run_all(function, names, args_for) -> tuple:
    gun = start_gun(len(names))
    workers = [Worker(start_together, gun, function, *args_for(i), name=name) for i, name in enumerate(names)]
    result = run(workers, timeout=60, output="none")
    failed = [w for w in result.workers if not w.ok]
    if failed:
        w = failed[0]
        raise AssertionError(
            f"{w.name} did not finish: {w.error or w.status}. Run your function once by hand to see the error"
            + (", and check that every acquire() has its release() (`with lock:` does that for you)." if w.status == "timeout" else ".")
        )
    return result


def _marks(trace, worker):
    return [e for e in trace.events if e.worker == worker and e.kind == "mark"]


def _check_under_one_hold(trace, lock_name: str, names) -> None:
    """Every read, and the write that follows it, inside one hold of the lock by the same worker."""
    try:
        holds = facts.hold_spans(trace, lock_name)
    except ValueError:  # the lock was never used
        holds = []
    for worker in names:
        mine = [(s.start, s.end) for s in holds if s.worker == worker]

        def hold_of(t):
            return next((i for i, (start, end) in enumerate(mine) if start <= t <= end), None)

        last_read = None
        for e in _marks(trace, worker):
            if not (e.detail.startswith("read ") or e.detail.startswith("wrote ")):
                continue
            where = hold_of(e.t)
            if where is None:
                raise AssertionError(
                    f"{worker} did '{e.detail}' without holding the lock you were given. Put the read, the "
                    "decision and the write inside `with lock:` (and use the `lock` argument, not a new Lock)."
                )
            if e.detail.startswith("read "):
                last_read = where
            elif last_read != where:
                raise AssertionError(
                    f"{worker} released the lock between reading the count and writing '{e.detail}': another "
                    "worker could read the same count in between. Keep the read and the write in one `with lock:` block."
                )


def check_buyer(buy_ticket, buyers: int = 5, tickets: int = 3) -> None:
    """Exercise 1: ``buy_ticket(i, store, lock, pause) -> bool`` must sell exactly ``tickets`` tickets."""
    _check_function(buy_ticket, "buy_ticket")
    names = [f"person{i}" for i in range(buyers)]
    lock = Lock(name="ticket lock")
    with WatchedStore(tickets) as store:
        pause = Pause(len(names))
        result = _run_all(buy_ticket, names, lambda i: (i, store, lock, pause))
        left = store.read()
    values = result.values
    not_bool = [n for n, v in values.items() if not isinstance(v, bool)]
    if not_bool:
        raise AssertionError(
            f"buy_ticket returned {values[not_bool[0]]!r} for {not_bool[0]}: return True when the buyer got "
            "a ticket and False when none was left."
        )
    trace = result.trace
    unpaused = [n for n in names if not any(e.detail == "pause" for e in _marks(trace, n))]
    if unpaused:
        raise AssertionError(
            f"{unpaused[0]} never called pause(): call pause() between reading the count and writing the new one "
            "(it is where another buyer gets in; the check needs it to make the race certain)."
        )
    sold = sum(values.values())
    if sold != tickets or left != 0:
        raise AssertionError(
            f"{sold} buyers were told they got a ticket, there were {tickets}, and the file says {left} left. "
            "Two buyers read the same count before either wrote it back: keep the read, the check and the "
            "write under one `with lock:`."
        )
    _check_under_one_hold(trace, "ticket lock", names)
    print(f"✔ {sold} of {buyers} buyers got a ticket, {buyers - sold} were told none were left, "
          "and every read and write happened under the lock.")


def check_put_back(put_back, clerks: int = 3, returned: int = 4) -> None:
    """Exercise 2: ``put_back(store, lock, returned, pause)`` adds ``returned`` tickets, one at a time."""
    _check_function(put_back, "put_back")
    names = [f"clerk {i}" for i in range(clerks)]
    lock = Lock(name="ticket lock")
    with WatchedStore(0) as store:
        pause = Pause(len(names))
        result = _run_all(put_back, names, lambda i: (store, lock, returned, pause))
        count = store.read()
    trace = result.trace
    expected = clerks * returned
    writes = sum(1 for n in names for e in _marks(trace, n) if e.detail.startswith("wrote "))
    if writes != expected:
        raise AssertionError(
            f"the clerks wrote to the store {writes} times; put the tickets back one at a time "
            f"(read, pause(), write count + 1), {returned} times per clerk, {expected} writes in all."
        )
    if count != expected:
        raise AssertionError(
            f"{expected} tickets were put back but the store says {count}: {expected - count} updates were lost, "
            "because two clerks read the same count and both wrote count + 1. Hold the lock from the read to the write."
        )
    _check_under_one_hold(trace, "ticket lock", names)
    print(f"✔ {clerks} clerks put back {expected} tickets and the store says {count}: no update was lost, "
          "and every read and write happened under the lock.")
