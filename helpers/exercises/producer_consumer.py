"""Self-checks for the exercises of ``06_producer_consumer.ipynb``: an eater that must not miss the
last baozi, and a shop that must close with one stop signal per eater, after every cook is done.

The checks bring their own cooks (one whose last baozi is slow; cooks that take their time, so stop
signals sent too early really do arrive before the food) and judge by the accounting of the tray
(every baozi and stop signal got exactly once), by what each eater returned, and by how each worker
ended (nobody stuck in get()).
"""
from __future__ import annotations

import time

from .. import facts, settings
from ..primitives import Queue
from ..runner import RunResult, Worker, run
from ..trace import recording, worker_name

_PER_COOK = 4  # baozi each cook of exercise 2 makes
_SLOW_LAST = 1.5  # real seconds the last baozi takes: longer than the starting point's get(timeout=1)


def _deadline() -> float:
    return 6.0 + 10.0 * settings.time_scale()


def cook_with_a_slow_last(tray, count: int = 5) -> list:
    """Cook of exercise 1: ``count`` baozi quickly, the last one slowly, then the stop signal."""
    cooked = []
    for i in range(count):
        if i == count - 1:
            time.sleep(_SLOW_LAST)  # real time: a fixed timeout in the eater cannot outwait it
        else:
            settings.sleep(0.2)
        cooked.append(f"包子{i}")
        tray.put(cooked[-1])
    tray.put(None)
    return cooked


def cook(tray, count: int = _PER_COOK) -> list:
    """Cook of exercise 2: ``count`` baozi, each after some steaming; no stop signal (the shop sends those)."""
    cooked = []
    for i in range(count):
        settings.sleep_random(0.5, 1.0)
        cooked.append(f"{worker_name()}: 包子{i}")
        tray.put(cooked[-1])
    return cooked


def eater(tray) -> list:
    """Eater of exercise 2: eat until the stop signal; return what was eaten."""
    eaten = []
    while True:
        baozi = tray.get()
        if baozi is None:
            return eaten
        settings.sleep_random(0.1, 0.3)
        eaten.append(baozi)


def _check_function(function, what: str) -> None:
    if not callable(function):
        raise TypeError(f"pass your {what} function itself, e.g. check({what}), not {type(function).__name__}.")


def check_eater(eater_function, count: int = 5) -> None:
    """Exercise 1: ``eater(tray)`` eats every baozi, stops on None, and returns the list it ate."""
    _check_function(eater_function, "eater")
    tray = Queue(name="tray")
    result = run(
        [Worker(cook_with_a_slow_last, tray, count, name="cook"), Worker(eater_function, tray, name="eater")],
        timeout=_deadline(), output="none",
    )
    eater_result = result["eater"]
    if eater_result.status == "timeout":
        raise AssertionError("the eater never finished: when it gets None (the cook's stop signal) it must return.")
    if not eater_result.ok:
        raise AssertionError(f"the eater failed with {eater_result.error or eater_result.status}. Run it once by hand to see why.")
    cooked = result["cook"].value
    eaten = eater_result.value
    trace = result.trace
    gave_up = trace.of("tray", worker="eater", kinds=("get_fail",))
    missed = isinstance(eaten, list) and not set(cooked) <= set(eaten)
    if gave_up or missed:
        raise AssertionError(
            f"the eater ate {eaten if isinstance(eaten, list) else '?'}"
            + (" and left before the last baozi" if missed else "")
            + (": a get() timed out and the eater took that as the end. " if gave_up else ". ")
            + "A quiet moment is not the end; only the stop signal is. Use a plain tray.get() and stop on None."
        )
    if eaten != cooked:
        raise AssertionError(f"the eater returned {eaten!r}; return the list of baozi it ate, in order ({cooked!r}), without the None.")
    acc = facts.accounting(trace, "tray")
    if not acc.exactly_once:
        raise AssertionError(f"tray: {acc.put} put, {acc.got} got, {acc.lost} never got: get the stop signal too, then return.")
    print(f"✔ all {len(cooked)} baozi eaten, the slow last one too, and the eater stopped on the stop signal.")


def check_shop(open_shop, cooks: int = 2, eaters: int = 3) -> None:
    """Exercise 2: ``open_shop(tray, cook, eater, n_cooks, n_eaters)`` runs the shop and closes it cleanly.

    It must return what ``eating.wait()`` returned: the eaters' RunResult.
    """
    _check_function(open_shop, "open_shop")
    tray = Queue(name="tray")
    with recording() as rec:
        returned = open_shop(tray, cook, eater, cooks, eaters)
    if not isinstance(returned, RunResult):
        raise AssertionError(f"open_shop returned {type(returned).__name__}: return what the eaters' run returned (eating.wait(...)).")
    names = [f"eater {i}" for i in range(1, eaters + 1)]
    trace = rec.trace
    missing = [n for n in names if n not in [w.name for w in returned.workers]]
    if missing:
        raise AssertionError(f"no {missing[0]!r} in the result you returned: name the eaters 'eater 1' … 'eater {eaters}' and return their run's result.")
    stuck = [returned[n] for n in names if returned[n].status == "timeout"]
    if stuck:
        raise AssertionError(
            f"{len(stuck)} of {eaters} eaters never went home ({', '.join(w.name for w in stuck)} still waiting in get()): "
            "each eater stops at its own None, so send one None per eater."
        )
    failed = [returned[n] for n in names if not returned[n].ok]
    if failed:
        raise AssertionError(f"{failed[0].name} failed: {failed[0].error or failed[0].status}.")
    cooked = cooks * _PER_COOK
    eaten = [item for n in names for item in returned[n].value]
    if len(set(eaten)) < cooked:
        raise AssertionError(
            f"{cooked} baozi were cooked but only {len(set(eaten))} eaten: the eaters got their stop signals before "
            "the last baozi. Send the None's only after every cook has finished (run the cooks to the end first)."
        )
    acc = facts.accounting(trace, "tray")
    if not acc.exactly_once:
        raise AssertionError(
            f"tray: {acc.put} put, {acc.got} got, {acc.lost} left in the tray: send exactly one None per eater, no more."
        )
    print(f"✔ {cooked} baozi cooked by {cooks} cooks, each eaten exactly once by {eaters} eaters, and every eater went home.")
