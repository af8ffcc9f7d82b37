"""helpers: run workers from notebook cells, trace the primitives they share, and draw what happened.

The pieces, by what you are looking for:

- running workers: :func:`run`, :func:`start`, :class:`Worker` (``runner``; the child side in ``child``)
- the course's knobs: :func:`sleep`, :func:`sleep_random`, :func:`rng`, :func:`start_method` (``settings``)
- traced primitives: :class:`Lock`, :class:`Semaphore`, :class:`Event`, :class:`Queue`, :func:`Pipe`, ... (``primitives``)
- the trace: :func:`mark`, :func:`phase`, :class:`recording` (``trace``); its checks in ``facts``
- pictures: :func:`timeline` (``timeline``), Perfetto export (``perfetto``)
- chapter tools: the chat server (``chat``), the ticket store (``tickets``)
"""
from . import exercises, facts
from .primitives import (
    Barrier,
    BoundedSemaphore,
    Condition,
    Event,
    JoinableQueue,
    Lock,
    Pipe,
    Queue,
    RLock,
    Semaphore,
)
from .runner import Run, RunResult, Worker, WorkerResult, leftovers, run, start
from .settings import rng, set_time_scale, sleep, sleep_random, start_method, time_scale
from .timeline import timeline
from .trace import Trace, mark, phase, recording, set_worker_name, worker_name


__all__ = [
    "Barrier", "BoundedSemaphore", "Condition", "Event", "JoinableQueue", "Lock", "Pipe", "Queue",
    "RLock", "Semaphore", "Run", "RunResult", "Worker", "WorkerResult", "leftovers", "run", "start",
    "rng", "set_time_scale", "sleep", "sleep_random", "start_method", "time_scale", "Trace", "mark",
    "phase", "recording", "set_worker_name", "worker_name", "timeline", "facts", "exercises",
]
