"""The recording: what each worker did with each primitive, and when, on one clock.

Every process (the notebook's kernel, each worker, any plain multiprocess child) appends events to
files of its own in one session directory. The files are memory-mapped, so an event is in the file
the moment it is recorded: a worker killed with SIGKILL keeps everything it recorded before. An
event costs one clock read and one ``struct.pack_into``; no lock, no system call.

All timestamps are ``time.perf_counter_ns()``: CLOCK_MONOTONIC on Linux, the same system-wide clock
in every process (on macOS and Windows too), so events from different workers can be compared.

Public here: :func:`mark`, :func:`phase`, :func:`worker_name`, :func:`set_worker_name`,
:func:`recording` and :class:`Trace` (read by ``facts``, ``timeline`` and ``perfetto``).
Introduced in ``00_start_here.ipynb``.
"""
from __future__ import annotations

import atexit
import contextlib
import json
import mmap
import os
import random
import shutil
import struct
import tempfile
from dataclasses import dataclass
from time import perf_counter_ns as clock

# Event kinds. A record is three int64 words: time, kind | primitive id << 8, detail.
KINDS = (
    "start", "end",                      # worker started / ended (recorded by the runner)
    "ask", "got", "timeout", "release",  # Lock, RLock, Semaphore, Condition's lock
    "wait", "woke",                      # Event/Condition/Barrier/JoinableQueue.join wait (detail 1 = woke, 0 = timed out)
    "set", "clear", "notify",            # Event.set/clear, Condition.notify (detail = n)
    "put_ask", "put", "put_fail",        # Queue.put / Connection.send (detail = item id)
    "get_ask", "get", "get_fail",        # Queue.get / Connection.recv (detail = item id)
    "task_done", "mark", "begin", "finish",  # JoinableQueue.task_done; marks and phases (detail = text id)
)
KIND = {name: number for number, name in enumerate(KINDS)}

_CHUNK_BYTES = 24 * 16384  # 384 KiB files, 16k events each
_pack3 = struct.Struct("<qqq").pack_into
_pack6 = struct.Struct("<qqqqqq").pack_into
_session_dir: str | None = None
_session_owner: int | None = None
_worker_name: str | None = None

# The hot path's state, module globals because that is the cheapest thing Python can read:
# the mapped chunk, the next free byte in it, and where it ends (0 = nothing opened yet).
_buf = None
_pos = 0
_end = 0
_writer = None  # this process's _Writer: file names, meta file, text ids


def emit(t: int, code: int, detail: int = 0) -> None:
    """Append one record: time, kind | primitive id << 8, detail."""
    global _pos
    i = _pos
    if i >= _end:
        i = _next_chunk()
    _pack3(_buf, i, t, code, detail)
    _pos = i + 24


def emit2(t1: int, code1: int, t2: int, code2: int, detail: int = 0) -> None:
    """Append two records at once (asked + got, put_ask + put, ...)."""
    global _pos
    i = _pos
    if i + 24 >= _end:
        i = _next_chunk()
    _pack6(_buf, i, t1, code1, 0, t2, code2, detail)
    _pos = i + 48


class _Writer:
    """This process's files in the session directory: a meta file (names) and mapped chunks."""

    def __init__(self, directory: str):
        self.directory = directory
        self.stem = os.path.join(directory, f"{os.getpid()}-{new_id():x}")
        self.chunks = 0
        self.texts: dict = {}
        self.maps: list = []
        # Line-buffered: each line reaches the file at once, so a killed process keeps its names.
        self.meta = open(self.stem + ".meta", "a", encoding="utf-8", buffering=1)
        self.line({"worker": worker_name(), "pid": os.getpid()})

    def line(self, entry: dict) -> None:
        self.meta.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def new_chunk(self):
        path = f"{self.stem}.{self.chunks:04d}.bin"
        self.chunks += 1
        with open(path, "w+b") as f:
            f.truncate(_CHUNK_BYTES)
            mapped = mmap.mmap(f.fileno(), _CHUNK_BYTES)
        self.maps.append(mapped)
        return mapped

    def close(self) -> None:
        for mapped in self.maps:
            with contextlib.suppress(Exception):
                mapped.close()
        with contextlib.suppress(Exception):
            self.meta.close()


def _writer_here() -> _Writer:
    global _writer
    if _writer is None:
        _writer = _Writer(session_dir())
    return _writer


def _next_chunk() -> int:
    global _buf, _end
    _buf = _writer_here().new_chunk()
    _end = _CHUNK_BYTES
    return 0


def _forget_writer() -> None:
    # A forked child must not write into its parent's files: it opens its own on first use.
    global _writer, _buf, _pos, _end
    _writer, _buf, _pos, _end = None, None, 0, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_writer)


def session_dir() -> str:
    """The directory this session records into, created by the first process that asks."""
    global _session_dir, _session_owner
    if _session_dir is None:
        inherited = os.environ.get("COURSE_TRACE_DIR")
        if inherited and os.path.isdir(inherited):
            _session_dir = inherited
        else:
            _remove_abandoned_session_dirs()
            _session_dir = tempfile.mkdtemp(prefix=f"course-trace-{os.getpid()}-")
            _session_owner = os.getpid()
            os.environ["COURSE_TRACE_DIR"] = _session_dir
            atexit.register(_remove_session_dir)
    return _session_dir


def _remove_abandoned_session_dirs() -> None:
    # A kernel that is killed (nbval does this) never runs its atexit cleanup; the next session
    # removes directories whose owner process is gone.
    import psutil

    root = tempfile.gettempdir()
    for name in os.listdir(root):
        parts = name.split("-")
        if name.startswith("course-trace-") and len(parts) >= 4 and parts[2].isdigit():
            if not psutil.pid_exists(int(parts[2])):
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def adopt_session_dir(directory: str) -> None:
    """Record into ``directory`` unless this process already records somewhere.

    Called by the runner in each worker, and when a traced primitive arrives in a plain child.
    """
    global _session_dir
    if _session_dir is None or (_writer is None and _session_owner is None):
        _session_dir = directory
        os.environ["COURSE_TRACE_DIR"] = directory


def _remove_session_dir() -> None:
    if _session_dir and _session_owner == os.getpid():
        if _writer is not None:
            _writer.close()
        _forget_writer()
        shutil.rmtree(_session_dir, ignore_errors=True)


def worker_name() -> str:
    """The logical name of the current process: the worker's name, or ``main`` in the notebook."""
    if _worker_name is not None:
        return _worker_name
    import multiprocess

    process = multiprocess.current_process()
    return "main" if process.name == "MainProcess" else process.name


def set_worker_name(name: str) -> None:
    """Name this process in traces and output (for processes not started by ``helpers.run``)."""
    global _worker_name
    if not isinstance(name, str) or not name:
        raise TypeError("a worker name must be a non-empty string, e.g. 'consumer 1'.")
    _worker_name = name
    if _writer is not None:
        _writer.line({"worker": name, "pid": os.getpid()})


def new_id() -> int:
    """A random 40-bit id for a primitive or a queued item, unique across processes in practice."""
    return random.getrandbits(40) | 1


def describe_primitive(kind: str, name: str, limit: int | None = None) -> tuple[int, str]:
    """Register a primitive in the session; returns its id and the session directory."""
    primitive_id = new_id()
    writer = _writer_here()
    writer.line({"primitive": primitive_id, "type": kind, "name": name, "limit": limit})
    return primitive_id, writer.directory


def text_id(text: str) -> int:
    """A number standing for ``text`` in this process's records (marks and phases)."""
    writer = _writer_here()
    number = writer.texts.get(text)
    if number is None:
        number = writer.texts[text] = len(writer.texts) + 1
        writer.line({"text": number, "value": text})
    return number


def mark(text: str) -> None:
    """Record an instant labelled ``text`` in the current worker's row of the timeline."""
    if not isinstance(text, str):
        raise TypeError(f"mark() takes a string label, not {type(text).__name__}.")
    emit(clock(), KIND["mark"], text_id(text))


@contextlib.contextmanager
def phase(text: str):
    """``with phase("singing"):`` records a named span in the current worker's row."""
    if not isinstance(text, str):
        raise TypeError(f"phase() takes a string label, not {type(text).__name__}.")
    number = text_id(text)
    emit(clock(), KIND["begin"], number)
    try:
        yield
    finally:
        emit(clock(), KIND["finish"], number)


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class Event:
    t: int  # perf_counter_ns
    worker: str
    kind: str
    primitive: int | None  # id, see Trace.primitives
    detail: int | str = 0  # item id, 1/0 for woke, n for notify, label for mark/begin/finish


@dataclass(frozen=True)
class Primitive:
    id: int
    type: str
    name: str
    limit: int | None


@dataclass
class Trace:
    """Events recorded between ``start`` and ``end`` (ns), sorted by time, with their primitives."""

    events: list
    primitives: dict  # id -> Primitive
    workers: list  # worker names in order of first appearance
    start: int
    end: int

    def primitive(self, name_or_id) -> Primitive:
        """The primitive with this name (or id); a ValueError lists the known names otherwise."""
        if isinstance(name_or_id, Primitive):
            return name_or_id
        if isinstance(name_or_id, int) and name_or_id in self.primitives:
            return self.primitives[name_or_id]
        used = {e.primitive for e in self.events}
        matches = [p for p in self.primitives.values() if p.name == name_or_id and p.id in used]
        if not matches:
            matches = [p for p in self.primitives.values() if p.name == name_or_id]
        if not matches:
            known = sorted({self.primitives[i].name for i in used if i in self.primitives})
            raise ValueError(
                f"no primitive named {name_or_id!r} in this trace; the trace has: "
                f"{', '.join(map(repr, known)) or 'none'}. Pass one of those names."
            )
        return matches[-1]

    def of(self, primitive=None, worker: str | None = None, kinds=None) -> list:
        """The events of one primitive and/or worker, optionally only some kinds."""
        pid = self.primitive(primitive).id if primitive is not None else None
        return [
            e for e in self.events
            if (pid is None or e.primitive == pid)
            and (worker is None or e.worker == worker)
            and (kinds is None or e.kind in kinds)
        ]

    def used_primitives(self) -> list:
        """Primitives that have events in this trace, in order of first use."""
        seen = []
        for e in self.events:
            if e.primitive is not None and e.primitive not in seen:
                seen.append(e.primitive)
        return [self.primitives[i] for i in seen if i in self.primitives]

    def seconds(self, t: int) -> float:
        """Seconds since the trace started."""
        return (t - self.start) / 1e9

    def __len__(self) -> int:
        return len(self.events)

    # Conveniences so a notebook can say result.trace.summary() and result.trace.timeline().
    def summary(self, **kwargs) -> str:
        from .facts import summary

        return summary(self, **kwargs)

    def timeline(self, **kwargs):
        from .timeline import timeline

        return timeline(self, **kwargs)

    def to_perfetto(self, path=None):
        from .perfetto import to_perfetto

        return to_perfetto(self, path)


def trace_and_order(obj, usage: str) -> tuple:
    """``(trace, worker names in run order)`` from a RunResult or a Trace; TypeError otherwise.

    ``usage`` completes the error's sentence, e.g. "use r.timeline() or helpers.timeline(r.trace)".
    """
    if isinstance(obj, Trace):
        return obj, []
    inner = getattr(obj, "trace", None)
    if not isinstance(inner, Trace):
        raise TypeError(f"expected a run's result or its trace, not {type(obj).__name__}: {usage}.")
    return inner, [w.name for w in getattr(obj, "workers", [])]


def _read_process(stem: str, start: int, end: int, primitives: dict, out: list) -> None:
    names = {}
    worker = "?"
    with open(stem + ".meta", encoding="utf-8") as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill
            if "worker" in entry:
                worker = entry["worker"]
            elif "primitive" in entry:
                primitives[entry["primitive"]] = Primitive(
                    entry["primitive"], entry["type"], entry["name"], entry["limit"]
                )
            elif "text" in entry:
                names[entry["text"]] = entry["value"]
    directory, base = os.path.split(stem)
    chunks = sorted(n for n in os.listdir(directory) if n.startswith(base + ".") and n.endswith(".bin"))
    for chunk in chunks:
        for t, code, detail in _records(os.path.join(directory, chunk)):
            kind = code & 0xFF
            if t < start or t > end or kind >= len(KINDS):
                continue
            kind = KINDS[kind]
            if kind in ("mark", "begin", "finish"):
                detail = names.get(detail, "?")
            out.append(Event(t, worker, kind, code >> 8 or None, detail))


def _records(path: str):
    """The records of one chunk file, up to the first empty one (the rest of the file is zeros)."""
    with open(path, "rb") as f:
        while block := f.read(24 * 2048):
            for record in struct.iter_unpack("<qqq", block[: len(block) - len(block) % 24]):
                if record[0] == 0:
                    return
                yield record


def read_trace(start: int = 0, end: int | None = None, directory: str | None = None) -> Trace:
    """Everything recorded in the session directory between ``start`` and ``end`` (ns)."""
    directory = directory or session_dir()
    end = clock() if end is None else end
    primitives: dict = {}
    events: list = []
    stems = sorted({os.path.join(directory, n[: -len(".meta")]) for n in os.listdir(directory) if n.endswith(".meta")})
    for stem in stems:
        _read_process(stem, start, end, primitives, events)
    events.sort(key=lambda e: e.t)
    workers: list = []
    for e in events:
        if e.worker not in workers:
            workers.append(e.worker)
    return Trace(events, primitives, workers, start, end)


class recording:
    """``with recording() as rec:`` ... ``rec.trace``: everything traced while the block ran.

    For code that starts plain multiprocess processes instead of ``helpers.run``.
    """

    def __enter__(self):
        session_dir()
        self.start = clock()
        self.trace = None
        return self

    def __exit__(self, *exc):
        self.trace = read_trace(self.start, clock())
        return False
