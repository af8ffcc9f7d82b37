"""Self-checks for the exercises of ``04_event.ipynb``: a starting gun, and bakers waiting for an oven.

Both checks run the learner's function in several workers next to one worker of their own (the
starter who fires the gun; the oven that gets hot, or never does), then judge from the trace: when
the Event was set, when each worker waited and woke, when its "running" or "baking" phase began.
"""
from __future__ import annotations

from .. import facts, settings
from ..primitives import Event
from ..runner import Worker, run

_GUN_DELAY = 2.0  # article seconds before the gun fires: the sprinters are on their marks by then
_HEAT_TIME = 1.0  # article seconds the oven takes to get hot
_PATIENCE_OK = 5.0  # real seconds a baker waits when the oven works (far longer than it takes)
_PATIENCE_BROKEN = 0.3  # real seconds a baker waits for an oven that never gets hot


def _deadline() -> float:
    """Seconds a check's run may take: generous at any time scale, short when a worker is stuck."""
    return 4.0 + 10.0 * settings.time_scale()


def fire_gun(gun, delay: float = _GUN_DELAY) -> None:
    """The starter (a worker of the check): wait ``delay`` article seconds, then fire the gun."""
    settings.sleep(delay)
    gun.set()


def heat_oven(hot, works: bool = True) -> None:
    """The oven (a worker of the check): get hot and say so, or, if broken, never say so."""
    settings.sleep(_HEAT_TIME)
    if works:
        hot.set()


def _check_function(function, what: str) -> None:
    if not callable(function):
        raise TypeError(f"pass your {what} function itself, e.g. check({what}), not {type(function).__name__}.")


def _phase_starts(trace, worker: str, label: str) -> list:
    return [s.start for s in facts.spans(trace) if s.kind == "phase" and s.worker == worker and s.label == label]


def _first_action(trace, worker: str):
    """The first mark or phase of ``worker``: what it did on its own account."""
    for e in trace.events:
        if e.worker == worker and e.kind in ("mark", "begin"):
            return e
    return None


def _stuck(result, hint: str) -> None:
    failed = [w for w in result.workers if not w.ok]
    if failed:
        w = failed[0]
        if w.status == "timeout":
            where = facts.blocked_in(result.trace, w.name)
            raise AssertionError(f"{w.name} never finished" + (f" (it was stuck in {where})" if where else "") + f": {hint}")
        raise AssertionError(f"{w.name} failed: {w.error or w.status}. Run your function once by hand to see why.")


def check_sprinter(sprinter, runners: int = 4) -> None:
    """Exercise 1: ``sprinter(gun)`` waits for the gun, then runs inside ``helpers.phase("running")``."""
    _check_function(sprinter, "sprinter")
    gun = Event(name="starting gun")
    names = [f"sprinter {i}" for i in range(1, runners + 1)]
    workers = [Worker(sprinter, gun, name=name) for name in names] + [Worker(fire_gun, gun, name="starter")]
    result = run(workers, timeout=_deadline(), output="none")
    _stuck(result, "wait for the gun with gun.wait(), and let it return once the starter fires.")
    trace = result.trace
    fired = [e.t for e in trace.of("starting gun", kinds=("set",))]
    for name in names:
        starts = _phase_starts(trace, name, "running")
        if not starts:
            raise AssertionError(f"{name} never ran: put the run inside `with helpers.phase(\"running\"):`, as in the starting point.")
        waits = trace.of("starting gun", worker=name, kinds=("wait",))
        if not waits:
            raise AssertionError(f"{name} never waited for the gun: call gun.wait() before running.")
        first = _first_action(trace, name)
        if first.t < fired[0] or waits[0].t > starts[0]:
            raise AssertionError(
                f"{name} started running before the gun was fired: wait for the gun first, then run "
                "(gun.wait() must come before `with helpers.phase(\"running\"):`)."
            )
        woke = trace.of("starting gun", worker=name, kinds=("woke",))
        if not woke or woke[0].detail != 1:
            raise AssertionError(f"{name}'s wait() ran out before the gun was fired: wait without a timeout (or a long one).")
    print(f"✔ the gun was fired once, and all {runners} sprinters began running after it, none before.")


def check_baker(baker, bakers: int = 3) -> None:
    """Exercise 2: ``baker(hot, patience)`` bakes once the oven is hot; gives up after ``patience`` seconds.

    It returns "baked" or "gave up". The check runs it twice: with an oven that gets hot, and with a
    broken one.
    """
    _check_function(baker, "baker")
    names = [f"baker {i}" for i in range(1, bakers + 1)]
    for works, patience in ((True, _PATIENCE_OK), (False, _PATIENCE_BROKEN)):
        hot = Event(name="oven hot")
        workers = [Worker(baker, hot, patience, name=name) for name in names] + [Worker(heat_oven, hot, works, name="oven")]
        result = run(workers, timeout=_deadline(), output="none")
        _stuck(result, (
            "with a broken oven, a baker must not wait forever: use hot.wait(timeout=patience)."
            if not works else "wait for the oven with hot.wait(timeout=patience)."
        ))
        trace = result.trace
        heated = [e.t for e in trace.of("oven hot", kinds=("set",))]
        for name in names:
            value = result[name].value
            baked = _phase_starts(trace, name, "baking")
            if works:
                if value != "baked" or not baked:
                    raise AssertionError(
                        f"with a working oven, {name} returned {value!r}"
                        + ("" if baked else " and never baked")
                        + ": once hot.wait(...) returns True, bake inside `with helpers.phase(\"baking\"):` and return \"baked\"."
                    )
                if baked[0] < heated[0]:
                    raise AssertionError(f"{name} started baking before the oven was hot: wait for it first.")
            else:
                if baked:
                    raise AssertionError(
                        f"the oven never got hot, yet {name} baked: hot.wait(timeout=...) returns False when it "
                        "gives up. Look at what it returns and bake only if it is True."
                    )
                if value != "gave up":
                    raise AssertionError(f"with a broken oven, {name} returned {value!r}: return \"gave up\" when the wait runs out.")
    print(f"✔ with a working oven all {bakers} bakers baked after it got hot; with a broken one they gave up and went home.")
