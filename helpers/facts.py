"""Facts computed from a trace: the point of each demo as something a test or a self-check can assert.

Spans (who was waiting, holding, running, in which phase, when) are derived from events here and
shared with ``timeline`` and ``perfetto``. On top of them: the most holders a primitive ever had,
whether mutual exclusion held, time spent waiting and holding, the order of acquisitions, queue
accounting (every item got exactly once?), and :func:`summary`, a short deterministic text (no
times, no PIDs) that nbval can compare.

Introduced in ``00_start_here.ipynb``; used in every chapter.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

LOCKLIKE = ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition")
CHANNELS = ("Queue", "JoinableQueue", "Pipe")


@dataclass(frozen=True)
class Span:
    worker: str
    kind: str  # running, waiting, holding, phase
    primitive: int | None
    start: int
    end: int
    label: str = ""
    open: bool = False  # still going when the trace ended (a worker stuck or killed)

    @property
    def seconds(self) -> float:
        return (self.end - self.start) / 1e9


_WAIT_ENDS = {"ask": ("got", "timeout"), "wait": ("woke",), "put_ask": ("put", "put_fail"), "get_ask": ("get", "get_fail")}
_WAIT_LABEL = {"ask": "acquire()", "wait": "wait()", "put_ask": "put()", "get_ask": "get()"}


def _label(trace, primitive_id, what=""):
    p = trace.primitives.get(primitive_id)
    name = f"{p.type} {p.name!r}" if p else "?"
    return f"{what} on {name}" if what else name


def spans(trace) -> list:
    """Every span in the trace, in order of start."""
    out = []
    open_waits: dict = {}  # (worker, primitive) -> (start event kind, t)
    holds: dict = defaultdict(list)  # (worker, primitive) -> [t_got, ...] (RLock nesting: depth)
    running: dict = {}
    phases: dict = defaultdict(list)
    for e in trace.events:
        key = (e.worker, e.primitive)
        if e.kind == "start":
            running[e.worker] = e.t
        elif e.kind == "end" and e.worker in running:
            out.append(Span(e.worker, "running", None, running.pop(e.worker), e.t, "running"))
        elif e.kind in _WAIT_ENDS:
            open_waits[key] = (e.kind, e.t)
        elif key in open_waits and e.kind in _WAIT_ENDS[open_waits[key][0]]:
            kind, t = open_waits.pop(key)
            out.append(Span(e.worker, "waiting", e.primitive, t, e.t, _label(trace, e.primitive, _WAIT_LABEL[kind])))
        if e.kind == "got":
            holds[key].append(e.t)
        elif e.kind == "release":
            stack = holds[key]
            if not stack:  # a semaphore released by a worker that did not acquire it
                continue
            t = stack.pop()
            ptype = trace.primitives[e.primitive].type if e.primitive in trace.primitives else ""
            if ptype == "RLock" and stack:
                continue  # an inner release of a re-entrant lock: the hold goes on
            out.append(Span(e.worker, "holding", e.primitive, t if ptype != "RLock" else t, e.t, _label(trace, e.primitive)))
        elif e.kind == "begin":
            phases[(e.worker, e.detail)].append(e.t)
        elif e.kind == "finish" and phases[(e.worker, e.detail)]:
            out.append(Span(e.worker, "phase", None, phases[(e.worker, e.detail)].pop(), e.t, e.detail))
    end = trace.end
    for worker, t in running.items():
        out.append(Span(worker, "running", None, t, end, "running", open=True))
    for (worker, primitive), (kind, t) in open_waits.items():
        out.append(Span(worker, "waiting", primitive, t, end, _label(trace, primitive, _WAIT_LABEL[kind]), open=True))
    for (worker, primitive), stack in holds.items():
        ptype = trace.primitives[primitive].type if primitive in trace.primitives else ""
        for t in (stack[:1] if ptype == "RLock" else stack):
            out.append(Span(worker, "holding", primitive, t, end, _label(trace, primitive), open=True))
    for (worker, label), stack in phases.items():
        for t in stack:
            out.append(Span(worker, "phase", None, t, end, label, open=True))
    out.sort(key=lambda s: (s.start, s.end))
    return out


def _steps(intervals) -> list:
    """[(t, count)] for a set of (start, end) intervals: how many overlap after each change."""
    changes = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda c: (c[0], c[1]))
    out, count = [], 0
    for t, delta in changes:
        count += delta
        out.append((t, count))
    return out


def hold_spans(trace, primitive) -> list:
    pid = trace.primitive(primitive).id
    return [s for s in spans(trace) if s.kind == "holding" and s.primitive == pid]


def holders_over_time(trace, primitive) -> list:
    """[(t, holders)] each time the number of holders of ``primitive`` changed."""
    return _steps([(s.start, s.end) for s in hold_spans(trace, primitive)])


def max_holders(trace, primitive) -> int:
    """The most workers that held ``primitive`` at the same moment."""
    return max((count for _, count in holders_over_time(trace, primitive)), default=0)


def mutual_exclusion(trace, primitive) -> bool:
    """True if no two holds of ``primitive`` overlapped (for a Semaphore: never more than its permits)."""
    p = trace.primitive(primitive)
    return max_holders(trace, p) <= (p.limit or 1)


def max_in_phase(trace, label: str) -> int:
    """The most workers inside a phase named ``label`` at once (e.g. an unprotected critical section)."""
    intervals = [(s.start, s.end) for s in spans(trace) if s.kind == "phase" and s.label == label]
    if not intervals:
        labels = sorted({s.label for s in spans(trace) if s.kind == "phase"})
        raise ValueError(f"no phase named {label!r} in this trace; phases recorded: {', '.join(map(repr, labels)) or 'none'}.")
    return max(count for _, count in _steps(intervals))


def acquisition_order(trace, primitive) -> list:
    """Worker names in the order they got ``primitive``."""
    return [s.worker for s in hold_spans(trace, primitive)]


def time_waiting(trace) -> dict:
    """Seconds each worker spent blocked (acquire, wait, put, get), keyed by worker."""
    total: dict = {w: 0.0 for w in trace.workers}
    for s in spans(trace):
        if s.kind == "waiting":
            total[s.worker] = total.get(s.worker, 0.0) + s.seconds
    return total


def time_holding(trace) -> dict:
    """Seconds each worker spent holding any lock-like primitive, keyed by worker."""
    total: dict = {w: 0.0 for w in trace.workers}
    for s in spans(trace):
        if s.kind == "holding":
            total[s.worker] = total.get(s.worker, 0.0) + s.seconds
    return total


@dataclass(frozen=True)
class Accounting:
    put: int
    got: int
    lost: int  # put but never got
    duplicated: int  # got more than once
    unknown: int  # got but never seen put (put before the trace started)

    @property
    def exactly_once(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.unknown == 0


def accounting(trace, channel) -> Accounting:
    """Items put (sent) and got (received) on a Queue or Pipe, and whether each was got exactly once."""
    pid = trace.primitive(channel).id
    puts = Counter(e.detail for e in trace.events if e.primitive == pid and e.kind == "put")
    gets = Counter(e.detail for e in trace.events if e.primitive == pid and e.kind == "get")
    lost = sum(1 for item in puts if item not in gets)
    duplicated = sum(n - 1 for item, n in gets.items() if n > 1)
    unknown = sum(1 for item in gets if item not in puts)
    return Accounting(sum(puts.values()), sum(gets.values()), lost, duplicated, unknown)


def queue_length_over_time(trace, channel) -> list:
    """[(t, items inside)] each time an item went in or came out."""
    pid = trace.primitive(channel).id
    out, length = [], 0
    for e in trace.events:
        if e.primitive == pid and e.kind in ("put", "get"):
            length += 1 if e.kind == "put" else -1
            out.append((e.t, length))
    return out


def blocked_in(trace, worker: str) -> str | None:
    """What ``worker`` was still waiting for when the trace ended, e.g. "get() on Queue 'q'"."""
    stuck = [s for s in spans(trace) if s.worker == worker and s.kind == "waiting" and s.open]
    return stuck[-1].label if stuck else None


def _count(trace, pid, kind) -> int:
    return sum(1 for e in trace.events if e.primitive == pid and e.kind == kind)


def describe(trace, primitive) -> str:
    """One deterministic sentence about what happened to ``primitive``."""
    p = trace.primitive(primitive)
    head = f"{p.type} {p.name!r}"
    if p.type in LOCKLIKE:
        holds = hold_spans(trace, p)
        workers = len({s.worker for s in holds})
        most = max_holders(trace, p)
        limit = p.limit or 1
        verdict = ("mutual exclusion held" if limit == 1 else f"limit of {limit} respected") if most <= limit else "LIMIT EXCEEDED"
        timeouts = _count(trace, p.id, "timeout")
        extra = f"; {timeouts} acquire(s) timed out" if timeouts else ""
        return f"{head}: {len(holds)} acquisitions by {workers} workers, at most {most} holding at once ({verdict}){extra}."
    if p.type == "Event":
        waits = _count(trace, p.id, "wait")
        timed_out = sum(1 for e in trace.events if e.primitive == p.id and e.kind == "woke" and e.detail == 0)
        return (f"{head}: set {_count(trace, p.id, 'set')} times, cleared {_count(trace, p.id, 'clear')} times; "
                f"{waits} waits, {timed_out} timed out.")
    if p.type == "Barrier":
        passed = sum(1 for e in trace.events if e.primitive == p.id and e.kind == "woke" and e.detail == 1)
        return f"{head} ({p.limit} parties): {_count(trace, p.id, 'wait')} arrivals, {passed} passed."
    if p.type in CHANNELS:
        acc = accounting(trace, p)
        verb = ("sent", "received") if p.type == "Pipe" else ("put", "got")
        if acc.exactly_once:
            verdict = "every item got exactly once"
        else:
            verdict = f"{acc.lost} lost, {acc.duplicated} duplicated, {acc.unknown} from before the trace"
        return f"{head}: {acc.put} {verb[0]}, {acc.got} {verb[1]}; {verdict}."
    return f"{head}: {sum(1 for e in trace.events if e.primitive == p.id)} events."


def summary(trace, primitives=None) -> str:
    """Deterministic lines about each primitive used (or those named) and any worker left waiting."""
    chosen = [trace.primitive(p) for p in primitives] if primitives else trace.used_primitives()
    chosen = sorted(chosen, key=lambda p: (p.type, p.name))
    lines = [describe(trace, p) for p in chosen]
    for worker in sorted(trace.workers):
        where = blocked_in(trace, worker)
        if where:
            lines.append(f"{worker} was still waiting in {where} when the trace ended.")
    return "\n".join(lines) if lines else "Nothing was traced."
