"""Traced primitives: drop-ins for multiprocess's own that record who asked, got, waited and released.

Each class takes the same arguments as its multiprocess twin plus an optional ``name`` (shown in
timelines and facts) and behaves the same; it adds one trace record per step. Pass them to workers
as you would the originals: as arguments when the worker is created, never through a Pool's task
arguments. Timestamps are taken so that a "hold" span lies inside the real hold: "got" after
acquire returns, "release" before release is called. Overlapping hold spans are therefore real.

Introduced in ``02_lock.ipynb`` (Lock), ``03_semaphore.ipynb``, ``04_event.ipynb``,
``05_queue.ipynb`` (Queue, Pipe) and ``06_producer_consumer.ipynb`` (JoinableQueue).
"""
from __future__ import annotations

import itertools
from time import perf_counter_ns as clock

from . import settings
from .trace import KIND, adopt_session_dir, describe_primitive, emit, emit2, new_id

_ASK, _GOT, _TIMEOUT, _RELEASE = KIND["ask"], KIND["got"], KIND["timeout"], KIND["release"]
_WAIT, _WOKE, _SET, _CLEAR, _NOTIFY = KIND["wait"], KIND["woke"], KIND["set"], KIND["clear"], KIND["notify"]
_PUT_ASK, _PUT, _PUT_FAIL = KIND["put_ask"], KIND["put"], KIND["put_fail"]
_GET_ASK, _GET, _GET_FAIL, _TASK_DONE = KIND["get_ask"], KIND["get"], KIND["get_fail"], KIND["task_done"]
_default_names = itertools.count(1)


def _check_timeout(timeout, what: str):
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{what}: timeout must be a number of seconds or None, not {type(timeout).__name__}.")
    if timeout < 0:
        raise ValueError(f"{what}: timeout must not be negative ({timeout}); pass 0 or more seconds, or None.")
    return timeout


class _Traced:
    """Common part: a name, an id in the session trace, and the session directory to record into."""

    _type = "?"
    _limit = None

    def _register(self, name):
        if name is None:
            name = f"{self._type}-{next(_default_names)}"
        if not isinstance(name, str) or not name:
            raise TypeError(f"{self._type} name must be a non-empty string, e.g. 'printer'.")
        self.name = name
        self._id, self._dir = describe_primitive(self._type, name, self._limit)
        self._code = self._id << 8
        # Precomputed record codes: the hot path then does no arithmetic.
        self._c_ask, self._c_got = self._code | _ASK, self._code | _GOT
        self._c_release = self._code | _RELEASE

    def __setstate__(self, state):
        # Arriving in a child process: record into the session this primitive belongs to.
        adopt_session_dir(state["_dir"])
        self.__dict__.update(state)

    def __repr__(self):
        return f"<traced {self._type} {self.name!r}>"


class _Acquirable(_Traced):
    """Lock-like: acquire / release / context manager."""

    def acquire(self, block=True, timeout=None):
        # Try without blocking first: when nobody holds it, one clock read serves as asked and got.
        if self._inner.acquire(False):
            t = clock()
            emit2(t, self._c_ask, t, self._c_got)
            return True
        if timeout is not None:
            _check_timeout(timeout, f"{self._type} {self.name!r}.acquire()")
        # Record the ask before blocking: a worker stuck here forever must show as waiting.
        emit(clock(), self._c_ask)
        got = self._inner.acquire(block, timeout)
        emit(clock(), self._code | (_GOT if got else _TIMEOUT))
        return got

    def release(self):
        t = clock()
        self._inner.release()
        emit(t, self._c_release)

    __enter__ = acquire

    def __exit__(self, *exc):
        self.release()
        return False


class Lock(_Acquirable):
    """``Lock(name=None)``: a multiprocess Lock that records asked / got / released."""

    _type = "Lock"
    _limit = 1

    def __init__(self, name=None):
        self._inner = settings.context().Lock()
        self._register(name)


class RLock(_Acquirable):
    """``RLock(name=None)``: a re-entrant Lock; nested acquires by the holder count as one hold."""

    _type = "RLock"
    _limit = 1

    def __init__(self, name=None):
        self._inner = settings.context().RLock()
        self._register(name)


def _check_value(value, cls: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{cls}(value) takes a whole number of permits, e.g. {cls}(4), not {type(value).__name__}.")
    if value < 0:
        raise ValueError(f"{cls}({value}): the number of permits cannot be negative; use 0 or more, e.g. {cls}(4).")
    return value


class Semaphore(_Acquirable):
    """``Semaphore(value=1, name=None)``: at most ``value`` holders at once (acquire -1, release +1)."""

    _type = "Semaphore"

    def __init__(self, value=1, name=None):
        self._limit = _check_value(value, self._type)
        self._inner = self._make(value)
        self._register(name)

    def _make(self, value):
        return settings.context().Semaphore(value)

    def get_value(self):
        return self._inner.get_value()


class BoundedSemaphore(Semaphore):
    """``BoundedSemaphore(value=1, name=None)``: a Semaphore that refuses a release without an acquire."""

    _type = "BoundedSemaphore"

    def _make(self, value):
        return settings.context().BoundedSemaphore(value)

    def release(self):
        t = clock()
        try:
            self._inner.release()
        except ValueError:
            raise ValueError(
                f"BoundedSemaphore {self.name!r} released more times than it was acquired "
                f"(it has {self._limit} permits): every release() must follow its own acquire()."
            ) from None
        emit(t, self._code | _RELEASE)


class Event(_Traced):
    """``Event(name=None)``: records wait start and end (woke or timed out), set and clear."""

    _type = "Event"

    def __init__(self, name=None):
        self._inner = settings.context().Event()
        self._register(name)

    def is_set(self):
        return self._inner.is_set()

    def set(self):
        t = clock()
        self._inner.set()
        emit(t, self._code | _SET)

    def clear(self):
        t = clock()
        self._inner.clear()
        emit(t, self._code | _CLEAR)

    def wait(self, timeout=None):
        _check_timeout(timeout, f"Event {self.name!r}.wait()")
        emit(clock(), self._code | _WAIT)
        woke = self._inner.wait(timeout)
        emit(clock(), self._code | _WOKE, 1 if woke else 0)
        return woke


class Condition(_Acquirable):
    """``Condition(lock=None, name=None)``: a lock plus wait / notify, all recorded."""

    _type = "Condition"
    _limit = 1

    def __init__(self, lock=None, name=None):
        inner_lock = lock._inner if isinstance(lock, _Acquirable) else lock
        self._inner = settings.context().Condition(inner_lock)
        self._register(name)

    def wait(self, timeout=None):
        _check_timeout(timeout, f"Condition {self.name!r}.wait()")
        t = clock()
        emit2(t, self._code | _RELEASE, t, self._code | _WAIT)
        woke = self._inner.wait(timeout)
        t = clock()
        # wait() returns holding the lock again: record the wake-up and the re-acquisition.
        emit2(t, self._code | _WOKE, t, self._code | _GOT, 1 if woke else 0)
        return woke

    def wait_for(self, predicate, timeout=None):
        _check_timeout(timeout, f"Condition {self.name!r}.wait_for()")
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        result = predicate()
        while not result:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            self.wait(remaining)
            result = predicate()
        return result

    def notify(self, n=1):
        self._inner.notify(n)
        emit(clock(), self._code | _NOTIFY, n)

    def notify_all(self):
        self.notify(2**31 - 1)


class Barrier(_Traced):
    """``Barrier(parties, action=None, timeout=None, name=None)``: records each arrival and release."""

    _type = "Barrier"

    def __init__(self, parties, action=None, timeout=None, name=None):
        if isinstance(parties, bool) or not isinstance(parties, int) or parties < 1:
            raise ValueError(f"Barrier(parties={parties!r}): parties must be a whole number of at least 1.")
        self._limit = parties
        self._inner = settings.context().Barrier(parties, action, _check_timeout(timeout, "Barrier"))
        self._register(name)

    def wait(self, timeout=None):
        import threading

        _check_timeout(timeout, f"Barrier {self.name!r}.wait()")
        emit(clock(), self._code | _WAIT)
        try:
            index = self._inner.wait(timeout)
        except threading.BrokenBarrierError:
            emit(clock(), self._code | _WOKE, 0)
            raise
        emit(clock(), self._code | _WOKE, 1)
        return index

    def reset(self):
        self._inner.reset()

    def abort(self):
        self._inner.abort()

    parties = property(lambda self: self._inner.parties)
    n_waiting = property(lambda self: self._inner.n_waiting)
    broken = property(lambda self: self._inner.broken)


class _ItemChannel(_Traced):
    """Recording for anything items go through: put/send and get/recv, each item with its own id."""

    def _traced_put(self, put, item, *args):
        item_id = new_id()
        emit(clock(), self._code | _PUT_ASK)  # before blocking, so a stuck put() shows
        try:
            put((item_id, item), *args)
        except Exception:  # Full, a closed queue or pipe: the put is over either way
            emit(clock(), self._code | _PUT_FAIL)
            raise
        emit(clock(), self._code | _PUT, item_id)

    def _traced_get(self, get, *args, asked=False):
        if not asked:
            emit(clock(), self._code | _GET_ASK)  # before blocking, so a stuck get() shows
        try:
            item_id, item = get(*args)
        except Exception:  # Empty, EOFError from a closed pipe, ...: the get is over either way
            emit(clock(), self._code | _GET_FAIL)
            raise
        emit(clock(), self._code | _GET, item_id)
        return item


class Queue(_ItemChannel):
    """``Queue(maxsize=0, name=None)``: records each put and get, and how long each was blocked."""

    _type = "Queue"

    def __init__(self, maxsize=0, name=None):
        if isinstance(maxsize, bool) or not isinstance(maxsize, int):
            raise TypeError(f"{self._type}(maxsize) takes a whole number (0 = unbounded), not {type(maxsize).__name__}.")
        if maxsize < 0:
            raise ValueError(f"{self._type}(maxsize={maxsize}): use 0 for unbounded or a positive bound.")
        self._limit = maxsize or None
        self._inner = self._make(maxsize)
        self._register(name)

    def _make(self, maxsize):
        return settings.context().Queue(maxsize)

    def put(self, obj, block=True, timeout=None):
        _check_timeout(timeout, f"{self._type} {self.name!r}.put()")
        self._traced_put(self._inner.put, obj, block, timeout)

    def get(self, block=True, timeout=None):
        _check_timeout(timeout, f"{self._type} {self.name!r}.get()")
        return self._traced_get(self._inner.get, block, timeout)

    def put_nowait(self, obj):
        self.put(obj, False)

    def get_nowait(self):
        return self.get(False)

    def qsize(self):
        return self._inner.qsize()

    def empty(self):
        return self._inner.empty()

    def full(self):
        return self._inner.full()

    def close(self):
        self._inner.close()

    def join_thread(self):
        self._inner.join_thread()

    def cancel_join_thread(self):
        self._inner.cancel_join_thread()


class JoinableQueue(Queue):
    """``JoinableQueue(maxsize=0, name=None)``: a Queue with task_done() and join(), both recorded."""

    _type = "JoinableQueue"

    def _make(self, maxsize):
        return settings.context().JoinableQueue(maxsize)

    def task_done(self):
        try:
            self._inner.task_done()
        except ValueError:
            raise ValueError(
                f"JoinableQueue {self.name!r}: task_done() called more times than items were got; "
                "call it once per get()."
            ) from None
        emit(clock(), self._code | _TASK_DONE)

    def join(self, timeout=None):
        """Wait until every item put has been marked done; returns False if ``timeout`` ran out first."""
        _check_timeout(timeout, f"JoinableQueue {self.name!r}.join()")
        emit(clock(), self._code | _WAIT)
        cond = self._inner._cond
        with cond:
            done = cond.wait_for(lambda: self._inner._unfinished_tasks._semlock._is_zero(), timeout)
        emit(clock(), self._code | _WOKE, 1 if done else 0)
        return done


class Connection(_ItemChannel):
    """One end of a traced :func:`Pipe`: send / recv recorded like put / get on the pipe."""

    _type = "Pipe"

    def __init__(self, inner, name, primitive_id, directory):
        self._inner = inner
        self.name = name
        self._id, self._dir = primitive_id, directory
        self._code = primitive_id << 8

    def send(self, obj):
        self._traced_put(self._inner.send, obj)

    def recv(self, timeout=None):
        """Receive the next object; with ``timeout``, raise TimeoutError if none arrives in time."""
        _check_timeout(timeout, f"Pipe {self.name!r}.recv()")
        if timeout is None or self._inner.poll(0):
            return self._traced_get(self._inner.recv)
        emit(clock(), self._code | _GET_ASK)  # drawn as a wait, however it ends
        if not self._inner.poll(timeout):
            emit(clock(), self._code | _GET_FAIL)
            raise TimeoutError(f"Pipe {self.name!r}: nothing arrived within {timeout} s.")
        return self._traced_get(self._inner.recv, asked=True)

    def poll(self, timeout=0.0):
        return self._inner.poll(timeout)

    def close(self):
        self._inner.close()

    def fileno(self):
        return self._inner.fileno()

    closed = property(lambda self: self._inner.closed)


def Pipe(duplex=True, name=None):
    """``Pipe(duplex=True, name=None)`` -> two traced Connections; both ends record into one track."""
    holder = _Traced()
    holder._type = "Pipe"
    holder._register(name)
    a, b = settings.context().Pipe(duplex)
    return Connection(a, holder.name, holder._id, holder._dir), Connection(b, holder.name, holder._id, holder._dir)
