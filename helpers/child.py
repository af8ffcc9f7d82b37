"""What happens inside a worker started by ``helpers.run``: its prints travel home as data.

A child's own stdout goes to places a notebook cannot see (the kernel's terminal under nbval,
the console on Windows; see ../shared/GUIDE.md). So each worker replaces ``sys.stdout`` and
``sys.stderr`` with writers that send whole lines over a pipe to the parent, which prints them
in the cell that ran the demo. An uncaught exception is sent as ``Type: message`` (no paths, no
colours), the return value as an object.
"""
from __future__ import annotations

import io
import os
import signal
import sys
import threading
from time import perf_counter_ns as clock

from . import settings, trace


class LineSender(io.TextIOBase):
    """A text stream that sends each complete line as ``("out", stream, line, time)`` over ``conn``.

    The time lets the parent print lines from all workers in the order they were written.
    """

    def __init__(self, conn, stream: str, lock: threading.Lock):
        self._conn, self._stream, self._lock = conn, stream, lock
        self._partial = ""

    def writable(self):
        return True

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        with self._lock:
            lines = (self._partial + text).split("\n")
            self._partial = lines.pop()
            now = clock()
            for line in lines:
                self._conn.send(("out", self._stream, line, now))
        return len(text)

    def flush(self):
        # Only at the end (see finish): a partial line waits for its newline, so lines stay whole.
        pass

    def finish(self):
        with self._lock:
            if self._partial:
                self._conn.send(("out", self._stream, self._partial, clock()))
                self._partial = ""


def describe_exception(exc: BaseException) -> str:
    """``Type: message`` for a report, without file paths or colour codes."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _stop_on_sigterm(signum, frame):
    # Turn the runner's terminate() into SystemExit, so `finally:` blocks (closing servers,
    # stopping a worker's own children) run before the process goes.
    raise SystemExit(128 + signum)


def _stop_own_children() -> None:
    # Processes a worker started end with it. Under forkserver they are not even its children in
    # the OS's eyes (the fork server forked them), so nobody else could find them later.
    import multiprocess

    from .runner import _stop_process

    for child in multiprocess.active_children():
        _stop_process(child)


def bootstrap(target, args, kwargs, name, conn, environment):
    """The function every worker process runs: set up, call ``target``, report, exit."""
    os.environ.update(environment)
    trace.adopt_session_dir(environment["COURSE_TRACE_DIR"])
    trace.set_worker_name(name)
    settings.reset_random()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
    lock = threading.Lock()
    out, err = LineSender(conn, "stdout", lock), LineSender(conn, "stderr", lock)
    sys.stdout, sys.stderr = out, err
    trace.emit(clock(), trace.KIND["start"])
    conn.send(("started",))  # the run's deadline counts from here, not from process start-up
    failed = False
    try:
        value = target(*args, **kwargs)
    except BaseException as exc:  # a worker's failure is reported, whatever it is
        failed = True
        report = ("error", describe_exception(exc))
    else:
        report = ("return", value)
    finally:
        trace.emit(clock(), trace.KIND["end"])
        _stop_own_children()
        out.finish()
        err.finish()
    try:
        conn.send(report)
    except Exception as exc:  # the return value could not be pickled
        failed = True
        conn.send(("error", f"its return value could not be sent back: {describe_exception(exc)}"))
    conn.close()
    if failed:
        sys.exit(1)
