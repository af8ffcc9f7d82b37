"""Export a trace for ui.perfetto.dev: zoom into a run far beyond what a static picture shows.

``to_perfetto(result.trace, "run.json")`` writes the Chrome trace format (JSON) that
https://ui.perfetto.dev (and chrome://tracing) opens: one track per worker, named by its logical
name (never a real PID), with a slice for each span (running, waiting, holding, phase), an instant
for each set / clear / put / get / mark, and a counter track per primitive (holders of a lock, items
inside a queue). Times are microseconds since the trace started.

Introduced in ``00_start_here.ipynb`` (the "going further" box next to the first timeline).
"""
from __future__ import annotations

import json
import os

from . import facts
from .trace import trace_and_order

PID = 1  # one logical "process" holds every worker's track; real PIDs mean nothing to a learner
_INSTANTS = {"set", "clear", "put", "get", "mark", "notify", "task_done", "timeout", "put_fail", "get_fail"}
_CATEGORY = {"running": "running", "waiting": "blocked", "holding": "holding", "phase": "phase"}


def to_perfetto(trace, path=None) -> dict:
    """The trace as a Chrome trace JSON object; also written to ``path`` if given.

    ``trace``: a :class:`helpers.Trace` or a RunResult. Open the written file at
    https://ui.perfetto.dev (drag and drop it), then press W/S to zoom and A/D to move.
    """
    trace, order = _check(trace, path)
    workers = order + [w for w in trace.workers if w not in order]
    tid = {w: i + 1 for i, w in enumerate(workers)}
    events = [{"name": "process_name", "ph": "M", "ts": 0, "pid": PID, "tid": 0, "args": {"name": "course run"}}]
    for w in workers:
        events.append({"name": "thread_name", "ph": "M", "ts": 0, "pid": PID, "tid": tid[w], "args": {"name": w}})
        events.append({"name": "thread_sort_index", "ph": "M", "ts": 0, "pid": PID, "tid": tid[w],
                       "args": {"sort_index": tid[w]}})

    def us(t: int) -> float:
        return round((t - trace.start) / 1000, 3)

    for s in facts.spans(trace):
        if s.kind == "waiting" and s.end == s.start and not s.open:
            continue  # an uncontended acquire: asked and got in the same instant
        name = s.label if s.kind in ("phase", "running") else (
            f"holding {_name(trace, s.primitive)}" if s.kind == "holding" else f"waiting in {s.label}")
        args = {"still going at the end": True} if s.open else {}
        events.append({"name": name, "cat": _CATEGORY[s.kind], "ph": "X", "ts": us(s.start),
                       "dur": max(0.0, round((s.end - s.start) / 1000, 3)), "pid": PID, "tid": tid[s.worker],
                       "args": args})
    for e in trace.events:
        if e.kind in _INSTANTS or (e.kind == "woke" and e.detail == 0):
            kind = "timeout" if e.kind == "woke" else e.kind
            name = str(e.detail) if kind == "mark" else (
                f"{kind} {_name(trace, e.primitive)}" if e.primitive is not None else kind)
            events.append({"name": name, "cat": kind, "ph": "i", "s": "t", "ts": us(e.t), "pid": PID,
                           "tid": tid[e.worker], "args": {}})
    for p in trace.used_primitives():
        if p.type in facts.LOCKLIKE:
            steps, what = facts.holders_over_time(trace, p), "holders"
        elif p.type in facts.CHANNELS:
            steps, what = facts.queue_length_over_time(trace, p), "items inside"
        else:
            continue
        label = f"{_name(trace, p.id)} {what}"
        events.append({"name": label, "ph": "C", "ts": 0.0, "pid": PID, "tid": 0, "args": {what: 0}})
        for t, n in steps:
            events.append({"name": label, "ph": "C", "ts": us(t), "pid": PID, "tid": 0, "args": {what: n}})
    # Metadata first, then by time; at equal times the longer slice first, so slices nest.
    events.sort(key=lambda e: (e["ph"] != "M", e["ts"], -e.get("dur", 0)))
    data = {"traceEvents": events, "displayTimeUnit": "ms"}
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
    return data


def _check(trace, path):
    trace, order = trace_and_order(trace, "use helpers.perfetto.to_perfetto(r.trace, 'run.json')")
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path= takes a file name such as 'run.json', not {type(path).__name__}.")
    return trace, order


def _name(trace, primitive_id) -> str:
    p = trace.primitives.get(primitive_id)
    return f"{p.type} {p.name!r}" if p else "?"
