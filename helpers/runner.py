"""Running workers: ``run([...])`` starts them, shows their prints, waits, and leaves nothing behind.

Workers are functions defined anywhere, notebook cells included (they reach children through
dill, with ``recurse`` on only while a process is being started). The start method is always
chosen explicitly (see ``settings``). Every run has a deadline; on the deadline, an error or the
kernel's interrupt button, every process of the run (and anything it started) is terminated,
joined and if need be killed.

Introduced in ``00_start_here.ipynb``.
"""
from __future__ import annotations

import atexit
import contextlib
import heapq
import importlib
import itertools
import os
import signal
import sys
import time
import types
import weakref
from dataclasses import dataclass, field
from time import perf_counter_ns as clock

import dill
import multiprocess.connection
import psutil
from multiprocess import context as _mp_context
from multiprocess.reduction import ForkingPickler

from . import settings, trace
from .child import bootstrap

DEFAULT_TIMEOUT = 60.0
_SETTLE_NS = 5_000_000  # a line is printed once it is this old, so a slower pipe cannot reorder it
_GRACE = 1.0  # seconds a terminated process gets to run its `finally:` blocks
_START_ALLOWANCE = 30.0  # seconds a worker may take to start before its deadline begins


class Worker:
    """``Worker(target, *args, name=None, **kwargs)``: one process to run ``target(*args, **kwargs)``."""

    def __init__(self, target, *args, name=None, **kwargs):
        if not callable(target):
            raise TypeError(f"Worker needs a function to run, got {type(target).__name__}: pass e.g. Worker(work, 1).")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise TypeError("a worker's name must be a non-empty string such as 'buyer 1'.")
        self.target, self.args, self.kwargs, self.name = target, args, kwargs, name

    def __repr__(self):
        return f"Worker({getattr(self.target, '__name__', self.target)!r}, name={self.name!r})"


@dataclass
class WorkerResult:
    """How one worker ended: ``status`` is ok, error, exit (died with a code), timeout or stopped."""

    name: str
    status: str = "running"
    exitcode: int | None = None
    value: object = None
    error: str | None = None
    output: list = field(default_factory=list)  # (stream, line)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def lines(self, stream: str = "stdout") -> list:
        return [line for s, line in self.output if s == stream]


@dataclass
class RunResult:
    """What a run did: one :class:`WorkerResult` per worker, in the order given, and its trace."""

    workers: list
    start: int
    end: int
    start_method: str
    _trace: object = None

    def __getitem__(self, name) -> WorkerResult:
        for w in self.workers:
            if w.name == name:
                return w
        raise KeyError(f"no worker named {name!r}; this run had {', '.join(w.name for w in self.workers)}.")

    @property
    def ok(self) -> bool:
        return all(w.ok for w in self.workers)

    @property
    def values(self) -> dict:
        return {w.name: w.value for w in self.workers}

    @property
    def elapsed(self) -> float:
        return (self.end - self.start) / 1e9

    @property
    def trace(self):
        if self._trace is None:
            self._trace = trace.read_trace(self.start, self.end)
        return self._trace

    def summary(self, **kwargs) -> str:
        return self.trace.summary(**kwargs)

    def timeline(self, **kwargs):
        kwargs.setdefault("workers", [w.name for w in self.workers])
        return self.trace.timeline(**kwargs)

    def __repr__(self):
        counts: dict = {}
        for w in self.workers:
            counts[w.status] = counts.get(w.status, 0) + 1
        return f"<RunResult: {len(self.workers)} workers, " + ", ".join(f"{n} {s}" for s, n in counts.items()) + ">"


class _SpawningCheck:
    """Stands in for a Popen while we test-pickle, so primitives agree to be pickled."""

    def DupFd(self, fd):
        return fd

    def duplicate_for_child(self, fd):
        return fd


def _check_picklable(worker: Worker, method: str) -> None:
    what = (worker.target, worker.args, worker.kwargs) if method != "fork" else worker.target
    previous = _mp_context.get_spawning_popen()
    _mp_context.set_spawning_popen(_SpawningCheck())
    try:
        with _dill_recurse():
            ForkingPickler.dumps(what)  # the pickler Process.start uses, with its extra reducers
    except Exception as exc:
        raise TypeError(
            f"worker {worker.name!r} cannot be sent to a new process ({type(exc).__name__}: {exc}). "
            "Pass only picklable arguments (numbers, strings, lists, helpers/multiprocess primitives) "
            "and define the function with `def` in a cell or module."
        ) from None
    finally:
        _mp_context.set_spawning_popen(previous)


@contextlib.contextmanager
def _dill_recurse():
    # recurse=True lets dill carry the notebook globals a function reads; it is process-global,
    # so it is on only while processes are being started, then restored.
    previous = dill.settings["recurse"]
    dill.settings["recurse"] = True
    try:
        yield
    finally:
        dill.settings["recurse"] = previous


def _save_module(pickler, module, _original=dill.Pickler.dispatch[types.ModuleType]):
    # dill copies the whole namespace of a module that is not under sys.prefix, which is what an
    # editable install of `helpers` looks like; a worker that uses `helpers.sleep` would drag all of
    # helpers' state along (and fail on it). Send our own modules by name instead.
    if module.__name__ == "helpers" or module.__name__.startswith("helpers."):
        pickler.save_reduce(importlib.import_module, (module.__name__,), obj=module)
    else:
        _original(pickler, module)


dill.register(types.ModuleType)(_save_module)


def _check_timeout(timeout, what: str):
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{what}: timeout must be a number of seconds, not {type(timeout).__name__}.")
    if not timeout > 0:
        raise ValueError(f"{what}: timeout must be greater than 0 seconds, got {timeout}.")
    return float(timeout)


def _normalise(workers) -> list:
    if isinstance(workers, Worker) or callable(workers):
        workers = [workers]
    try:
        workers = list(workers)
    except TypeError:
        raise TypeError("run() takes a list of Worker(...) objects or functions, e.g. run([Worker(f, 1), Worker(f, 2)]).") from None
    if not workers:
        raise ValueError("run() needs at least one worker, e.g. run([Worker(f, 1)]).")
    normal = []
    for item in workers:
        if isinstance(item, Worker):
            normal.append(item)
        elif callable(item):
            normal.append(Worker(item))
        else:
            raise TypeError(f"run() got {type(item).__name__} {item!r}; pass Worker(function, *args) objects or functions.")
    names = [w.name or getattr(w.target, "__name__", "worker") for w in normal]
    # Unnamed workers sharing a function get numbered: work-0, work-1, ...
    shared = {n for n in names if names.count(n) > 1}
    numbered: dict = {}
    for i, w in enumerate(normal):
        if w.name is None and names[i] in shared:
            base = names[i]
            names[i] = f"{base}-{numbered.setdefault(base, 0)}"
            numbered[base] += 1
    named = [Worker(w.target, *w.args, name=n, **w.kwargs) for w, n in zip(normal, names)]
    seen = set()
    for w in named:
        if w.name in seen:
            raise ValueError(f"two workers are named {w.name!r}; give each worker its own name.")
        seen.add(w.name)
    return named


def _tree(pid: int) -> list:
    with contextlib.suppress(psutil.Error):
        return psutil.Process(pid).children(recursive=True)
    return []


def _stop_process(process) -> None:
    """terminate, join, kill, join; then the same for anything it started."""
    if process.pid is None:
        return
    descendants = _tree(process.pid)
    if process.exitcode is None:
        with contextlib.suppress(Exception):
            process.terminate()
        process.join(_GRACE)
        if process.exitcode is None:
            with contextlib.suppress(Exception):
                process.kill()
            process.join(_GRACE)
    for child in descendants:
        with contextlib.suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(descendants, timeout=_GRACE)
    _reap(d.pid for d in descendants)


def _reap(pids) -> None:
    # Orphans that were re-parented to us (see _become_subreaper) are ours to wait for.
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


def _become_subreaper() -> None:
    # On Linux, make orphaned grandchildren (a killed server's connection handlers) our children,
    # so they can be reaped instead of lingering as zombies.
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


_active_runs: "weakref.WeakSet[Run]" = weakref.WeakSet()


@atexit.register
def _stop_active_runs() -> None:
    # Workers are not daemons, so an interpreter leaving with a run still going stops it first.
    for running in list(_active_runs):
        running.stop()


class Run:
    """A run in progress. ``run()`` waits for it; ``start()`` hands it to you (use ``with``)."""

    def __init__(self, workers, *, start_method=None, output="live"):
        if output not in ("live", "by_worker", "none"):
            raise ValueError(f"output={output!r}: use 'live' (as it happens), 'by_worker' (grouped) or 'none'.")
        self.method = settings.check_start_method(start_method) if start_method is not None else settings.start_method()
        self.output = output
        self.specs = _normalise(workers)
        for spec in self.specs:
            _check_picklable(spec, self.method)
        self.results = [WorkerResult(spec.name) for spec in self.specs]
        self._processes: list = []
        self._conns: list = []
        self._reported = False
        self._sequence = itertools.count()
        self._started: dict = {}  # worker index -> time.monotonic() when its function began
        self._held: list = []  # heap of lines not yet printed: (time, sequence, worker index, stream, line)
        self.start_ns = clock()
        self.end_ns = None
        _active_runs.add(self)
        self._launch()

    def _launch(self) -> None:
        ctx = settings.context(self.method)
        _become_subreaper()
        environment = {
            "COURSE_TRACE_DIR": trace.session_dir(),
            "COURSE_TIME_SCALE": repr(settings.time_scale()),
            "COURSE_SEED": str(settings.seed()),
            "COURSE_START_METHOD": self.method,
            "NO_COLOR": "1",
            "PYTHON_COLORS": "0",
        }
        try:
            for spec in self.specs:
                reader, writer = ctx.Pipe(duplex=False)
                process = ctx.Process(
                    target=bootstrap,
                    args=(spec.target, spec.args, spec.kwargs, spec.name, writer, environment),
                    name=spec.name,
                    daemon=False,  # a worker may start processes of its own (the chat server does)
                )
                with _dill_recurse():
                    process.start()
                writer.close()  # the child has its copy; ours would hide the child's EOF
                self._processes.append(process)
                self._conns.append(reader)
        except BaseException:
            self.stop()
            raise

    # -- reading what workers send ------------------------------------------------------------
    def _receive(self, index: int, message) -> None:
        result = self.results[index]
        kind = message[0]
        if kind == "out":
            _, stream, line, t = message
            result.output.append((stream, line))
            heapq.heappush(self._held, (t, next(self._sequence), index, stream, line))
        elif kind == "started":
            self._started[index] = time.monotonic()
        elif kind == "return":
            result.value = message[1]
        elif kind == "error":
            result.error = message[1]

    def _drain(self, index: int) -> None:
        conn = self._conns[index]
        if conn is None:
            return
        try:
            while conn.poll(0):
                self._receive(index, conn.recv())
        except (EOFError, OSError):
            conn.close()
            self._conns[index] = None

    def _print_held(self, everything: bool = False) -> None:
        # Each pipe is read in turn, so lines arrive a little out of order; the workers' clock is
        # one clock, so printing by time restores the order in which they were written.
        limit = None if everything else clock() - _SETTLE_NS
        while self._held and (limit is None or self._held[0][0] <= limit):
            _, _, index, stream, line = heapq.heappop(self._held)
            if self.output == "live":
                name = self.results[index].name
                print(f"{name}: {line}", file=sys.stdout if stream == "stdout" else sys.stderr, flush=True)

    def _pending(self) -> list:
        return [i for i, p in enumerate(self._processes) if p.exitcode is None or self._conns[i] is not None]

    def poll(self, timeout: float = 0.0) -> None:
        """Show what the workers printed so far, waiting up to ``timeout`` seconds for more."""
        waitables = {}
        for i in self._pending():
            if self._conns[i] is not None:
                waitables[self._conns[i]] = i
            if self._processes[i].exitcode is None:
                waitables[self._processes[i].sentinel] = i
        if waitables:
            multiprocess.connection.wait(list(waitables), timeout)
        for i in range(len(self._processes)):
            self._drain(i)
        for i in list(self._pending()):
            if self._processes[i].exitcode is not None:
                self._drain(i)
                # A process that has exited has said all it will say; a grandchild holding the
                # pipe open must not keep us waiting.
                if self._conns[i] is not None:
                    self._conns[i].close()
                    self._conns[i] = None
        self._print_held(everything=not self._pending())

    def wait(self, timeout: float | None = DEFAULT_TIMEOUT) -> RunResult:
        """Wait until every worker ends, at most ``timeout`` seconds; then stop the rest."""
        timeout = _check_timeout(timeout, "wait()")
        began = time.monotonic()
        try:
            while self._pending():
                deadline = self._deadline(began, timeout)
                remaining = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
                if remaining <= 0:
                    break
                self.poll(remaining)
        finally:
            # Deadline, error or KeyboardInterrupt: nothing of the run stays behind.
            self.stop(reason=f"did not finish within {timeout:g} s" if timeout else "was stopped")
        return self.result()

    def _deadline(self, began: float, timeout):
        """When to give up: ``timeout`` after the last worker began its function.

        Starting a process (a fresh interpreter under spawn, the fork server's first boot) can
        take a good part of a second on a busy machine; it is not the demo's time, so it gets its
        own allowance instead of eating into ``timeout``.
        """
        if timeout is None:
            return None
        if any(i not in self._started and p.exitcode is None for i, p in enumerate(self._processes)):
            return began + _START_ALLOWANCE + timeout
        return max([began, *self._started.values()]) + timeout

    def stop(self, reason: str = "was stopped") -> RunResult:
        """Terminate every worker still running (and what it started), then report."""
        for i, process in enumerate(self._processes):
            was_running = process.exitcode is None
            _stop_process(process)
            self._drain(i)
            if self._conns[i] is not None:
                self._conns[i].close()
                self._conns[i] = None
            if was_running:
                # What the worker said while being stopped (SystemExit) is not the story; this is.
                self.results[i].status = "timeout" if reason.startswith("did not finish") else "stopped"
                self.results[i].error = reason
        if self.end_ns is None:
            self.end_ns = clock()
        _active_runs.discard(self)
        self._print_held(everything=True)
        return self.result()

    def result(self) -> RunResult:
        for spec, result, process in zip(self.specs, self.results, self._processes):
            result.exitcode = process.exitcode
            if result.status == "running":
                if result.error is not None:
                    result.status = "error"
                elif process.exitcode == 0:
                    result.status = "ok"
                else:
                    result.status = "exit"
        run_result = RunResult(self.results, self.start_ns, self.end_ns or clock(), self.method)
        if not self._reported and self.end_ns is not None:
            self._reported = True
            self._report(run_result)
        return run_result

    def _report(self, run_result: RunResult) -> None:
        if self.output == "by_worker":
            for result in self.results:
                for stream, line in result.output:
                    print(f"{result.name}: {line}", file=sys.stdout if stream == "stdout" else sys.stderr)
        if self.output == "none":
            return
        for result in self.results:
            if result.status in ("timeout", "stopped"):
                where = _blocked_in(run_result, result.name)
                print(f"{result.name}: {result.error}{where}; it was stopped.", file=sys.stderr)
            elif result.status == "error":
                print(f"{result.name}: {result.error}", file=sys.stderr)
            elif result.status == "exit":
                print(f"{result.name}: {_describe_exit(result.exitcode)}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def _describe_exit(code) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"died with exit code {code} (killed by {signal.Signals(-code).name})"
    return f"died with exit code {code}"


def _blocked_in(run_result: RunResult, worker: str) -> str:
    """`` (waiting in get() on Queue 'q')`` from the worker's last unfinished wait, if any."""
    from .facts import blocked_in

    with contextlib.suppress(Exception):
        where = blocked_in(run_result.trace, worker)
        if where:
            return f" (waiting in {where})"
    return ""


def start(workers, *, start_method=None, output="live") -> Run:
    """Start workers in the background and return the :class:`Run`; use it with ``with``."""
    return Run(workers, start_method=start_method, output=output)


def run(workers, *, timeout: float = DEFAULT_TIMEOUT, start_method=None, output="live") -> RunResult:
    """Run workers to the end (at most ``timeout`` seconds once they have started) and return what each did.

    ``workers``: a list of :class:`Worker` objects (or plain functions). ``output``: 'live' prints
    each line as it arrives, prefixed with the worker's name; 'by_worker' prints them grouped after
    the run (deterministic order); 'none' prints nothing (see ``result[name].output``).
    """
    timeout = _check_timeout(timeout, "run()")
    with start(workers, start_method=start_method, output=output) as running:
        return running.wait(timeout)


def our_processes() -> list:
    """Processes started from this one that are still there (zombies too), except multiprocess's
    own long-lived helpers (the forkserver and the resource tracker)."""
    helpers_pids = set()
    with contextlib.suppress(Exception):
        from multiprocess import forkserver, resource_tracker

        helpers_pids.add(forkserver._forkserver._forkserver_pid)
        helpers_pids.add(resource_tracker._resource_tracker._pid)
    found = []
    for child in _tree(os.getpid()):
        with contextlib.suppress(psutil.Error):
            if child.pid not in helpers_pids:
                found.append(child)
    return found


def leftovers(grace: float = 2.0) -> list:
    """Describe our processes still there after ``grace`` seconds (an empty list means all clean)."""
    deadline = time.monotonic() + grace
    while True:
        multiprocess.active_children()  # reaps finished multiprocess children
        _reap(p.pid for p in our_processes())
        left = []
        for p in our_processes():
            with contextlib.suppress(psutil.Error):
                left.append(f"pid {p.pid} ({p.status()}): {' '.join(p.cmdline()[:3])}")
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)
