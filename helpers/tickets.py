"""The 12306 ticket "database" of the article: a JSON file ``{"count": 3}`` that buyers read and rewrite.

:class:`TicketStore` creates the file in a temporary directory of its own (so demos never touch
the learner's folder), reads the count, writes a new count and sells one ticket, with a lock or
without. Writes are atomic by default: the new text goes to a temporary file in the same directory,
which then replaces the old one with ``os.replace``, so a reader sees the old file or the new one,
never half of one. ``atomic=False`` writes in place the way the article does (``open(path, 'w')``),
and ``halfway=`` lets a demo pause a write in the middle to show what a reader then meets.

A store is a plain object holding a path, so it can be passed to workers; only the process that
created it removes it (``with TicketStore(3) as store:`` or ``store.remove()``).

Introduced in ``02_lock.ipynb``.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile


def _check_count(count, what: str) -> int:
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError(f"{what} takes a whole number of tickets, e.g. 3, not {type(count).__name__}.")
    if count < 0:
        raise ValueError(f"{what}: the number of tickets cannot be negative ({count}); use 0 or more.")
    return count


class TicketStore:
    """``TicketStore(count=3, directory=None, filename="ticket")``: the ticket file and what buyers do to it.

    ``directory=None`` makes a new temporary directory, removed with the store. ``path`` is the file.
    """

    def __init__(self, count: int = 3, directory: str | None = None, filename: str = "ticket"):
        self.initial = _check_count(count, "TicketStore(count)")
        if not isinstance(filename, str) or not filename or os.sep in filename or filename in (".", ".."):
            raise ValueError(f"filename must be a plain file name such as 'ticket', not {filename!r}.")
        if directory is None:
            self.directory = tempfile.mkdtemp(prefix="course-tickets-")
            self._owns_directory = True
        else:
            if not isinstance(directory, (str, os.PathLike)):
                raise TypeError(f"directory must be a path (str), not {type(directory).__name__}.")
            directory = os.fspath(directory)
            if not os.path.isdir(directory):
                raise ValueError(f"directory {directory!r} does not exist; create it first or pass directory=None.")
            self.directory = directory
            self._owns_directory = False
        self.path = os.path.join(self.directory, filename)
        self._owner = os.getpid()
        self.write(self.initial)

    # -- reading and writing -------------------------------------------------------------------
    def read(self) -> int:
        """The number of tickets left, as the file says now.

        A file caught half-written raises ``json.JSONDecodeError`` (a ValueError), as it would for
        the article's ``check_ticket``.
        """
        with open(self.path, encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict) or not isinstance(data.get("count"), int):
            raise ValueError(f"the ticket file should hold {{\"count\": <whole number>}}, but it holds {data!r}.")
        return data["count"]

    def write(self, count: int, *, atomic: bool = True, halfway=None) -> None:
        """Make the file say ``{"count": count}``.

        ``atomic=True``: write a temporary file beside it and ``os.replace`` it over the old one, so
        no reader ever sees a partial file. ``atomic=False``: rewrite the file in place, as the
        article does. ``halfway``: a function called when half of the text is written and flushed
        (a demo uses it to let a reader look at that moment).
        """
        _check_count(count, "write(count)")
        if halfway is not None and not callable(halfway):
            raise TypeError(f"halfway must be a function to call mid-write, not {type(halfway).__name__}.")
        text = json.dumps({"count": count})
        first, rest = text[: len(text) // 2], text[len(text) // 2:]
        if not atomic:
            with open(self.path, "w", encoding="utf-8") as f:
                self._write_in_two(f, first, rest, halfway)
            return
        fd, temporary = tempfile.mkstemp(prefix=".ticket-", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                self._write_in_two(f, first, rest, halfway)
                os.fsync(f.fileno())  # the bytes are on disk before the name points at them
            os.replace(temporary, self.path)  # atomic on POSIX and Windows: old file or new, never half
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise

    @staticmethod
    def _write_in_two(f, first: str, rest: str, halfway) -> None:
        f.write(first)
        if halfway is not None:
            f.flush()
            halfway()
        f.write(rest)
        f.flush()

    def buy(self, lock=None, *, after_read=None) -> bool:
        """Sell one ticket: read the count, and if one is left write count - 1. True if sold.

        With ``lock`` (anything with ``with lock:``), reading and writing happen under it, so no
        other buyer can read between them. ``after_read``: a function called between reading and
        writing (a demo uses it to force the unlucky timing).
        """
        if lock is not None and not (hasattr(lock, "__enter__") and hasattr(lock, "__exit__")):
            raise TypeError(f"lock must be a Lock (usable as `with lock:`), not {type(lock).__name__}.")
        if after_read is not None and not callable(after_read):
            raise TypeError(f"after_read must be a function, not {type(after_read).__name__}.")
        if lock is None:
            return self._buy(after_read)
        with lock:
            return self._buy(after_read)

    def _buy(self, after_read) -> bool:
        count = self.read()
        if after_read is not None:
            after_read()
        if count <= 0:
            return False
        self.write(count - 1)
        return True

    # -- lifetime ------------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return os.path.exists(self.path)

    def remove(self) -> None:
        """Delete the file (and the temporary directory, if the store made it). Safe to call twice.

        Only the process that created the store removes anything: a worker's copy is left alone.
        """
        if os.getpid() != self._owner:
            return
        if self._owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)
        elif os.path.exists(self.path):
            os.remove(self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def __repr__(self):
        try:
            state = f"{self.read()} left" if self.exists else "removed"
        except ValueError:
            state = "file unreadable"
        return f"<TicketStore: started with {self.initial}, {state}>"
