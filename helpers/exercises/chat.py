"""Self-checks for the exercises of ``01_socket_chat.ipynb``: a numbering handler, a client's line reader.

:func:`check_handler` runs the learner's ``handle(conn, n)`` as the handler of a real
:func:`helpers.chat.serve` (one process per client) and talks to it with three clients; it judges
the replies, the handlers' endings from the trace, and whether any handler had to be stopped.
:func:`check_recv_line` feeds the learner's ``recv_line(sock, buffer)`` fake sockets that deliver
replies in awkward pieces, in a worker with a deadline, so a loop that never ends cannot hang the notebook.
"""
from __future__ import annotations

from .. import chat
from ..primitives import Event, Queue
from ..runner import Worker, run, start

_TIMEOUT = 20.0  # seconds for the whole check (starting processes under spawn on a loaded machine is slow)
_REPLY_TIMEOUT = 3.0  # seconds a client waits for each reply


def _check_function(function, what: str) -> None:
    if not callable(function):
        raise TypeError(f"pass your {what} function itself, e.g. check_handler(handle), not {type(function).__name__}.")


# -- exercise 1: a handler that numbers its clients and stops when they leave ----------------------


def _expected(n: int, lines) -> list:
    return [f"client {n}: {line.upper()}" for line in lines]


def _clients(address) -> list:
    """Three clients, one after another (so client numbers are known): (what was sent, replies got)."""
    conversations = []
    first = ["hello", "how are you?"]
    conversations.append((first, chat.talk(address, first, timeout=_REPLY_TIMEOUT)))
    # Two lines in awkward pieces: the handler must find the newlines itself.
    second = ["one", "two"]
    conversations.append((second, chat.send_raw(address, [b"one\ntw", b"o\n"], timeout=_REPLY_TIMEOUT, pause=0.1,
                                                      expect=2)))
    third = ["bye"]
    conversations.append((third, chat.talk(address, third, timeout=_REPLY_TIMEOUT)))
    return conversations


def check_handler(handle, *, timeout: float = _TIMEOUT) -> None:
    """Serve three clients with ``handle(conn, n)``; each line must come back as ``client n: LINE``."""
    _check_function(handle, "handler")
    ready, stop = Queue(name="ready"), Event(name="stop")
    server = start([Worker(chat.serve, ready, stop, handler=handle, idle_timeout=2 * _REPLY_TIMEOUT, grace=0.5,
                           name="chat server")], output="none")
    problem = None
    conversations = []
    try:
        address = ready.get(timeout=timeout)
        try:
            conversations = _clients(address)
        except TimeoutError:
            problem = (f"a client waited {_REPLY_TIMEOUT:g} s for a reply that never came. Does your handler "
                       "send each reply with conn.sendall(...), encoded, ending in b'\\n'?")
        except ConnectionError as exc:
            problem = f"the connection broke while a client was talking ({type(exc).__name__}: {exc})."
    finally:
        stop.set()
        result = server.wait(timeout)
    if not result.ok:
        raise AssertionError(f"the server could not run your handler: {result['chat server'].error}")
    report, trace = result["chat server"].value, result.trace
    errors = [(n, chat.ending(trace, n)) for n in range(1, report["clients"] + 1)]
    errors = [(n, e) for n, e in errors if e and e.startswith("error:")]
    if errors:
        n, error = errors[0]
        hint = ""
        if "NoneType" in error:
            hint = " readline() returns None once the client has left: stop there (and return)."
        raise AssertionError(f"your handler raised an exception while serving client {n}: {error[len('error: '):]}.{hint}")
    if problem:
        raise AssertionError(problem)
    for n, (sent, replies) in enumerate(conversations, start=1):
        expected = _expected(n, sent)
        if replies != expected:
            hint = ""
            if n > 1 and replies == _expected(1, sent):
                hint = (" Every client was told it is client 1: a counter kept in the handler counts inside that "
                        "one process only (each client has its own). Use the n the server passes in.")
            elif n == 2:
                hint = (" The two lines arrived as b'one\\ntw' and b'o\\n': one recv() is not one message. "
                        "Read lines with chat.LineReader(conn).readline().")
            raise AssertionError(f"client {n} sent {sent} and got {replies}; expected {expected}.{hint}")
    if report["forced to stop"]:
        raise AssertionError(
            f"{report['forced to stop']} handler(s) were still running after their client had left and had to be "
            "terminated. When readline() returns None (recv() returned b''), leave the loop."
        )
    print(f"✔ {report['clients']} clients, each served by its own process: every line came back as "
          "'client n: LINE', and every handler ended when its client left.")


# -- exercise 2: the client's side of framing --------------------------------------------------


class FakeSocket:
    """Stands in for a connected socket: ``recv`` returns the given pieces, then ``b''`` (closed)."""

    def __init__(self, pieces):
        self._pieces = [bytes(p) for p in pieces]
        self._calls_after_close = 0

    def recv(self, bufsize):
        if isinstance(bufsize, bool) or not isinstance(bufsize, int) or bufsize < 1:
            raise ValueError(f"recv() takes a positive number of bytes, e.g. recv(1024); got {bufsize!r}")
        if not self._pieces:
            self._calls_after_close += 1
            if self._calls_after_close > 5:
                raise RuntimeError("recv() was called again and again after it returned b'' (the server had closed)")
            return b""
        piece = self._pieces.pop(0)
        if len(piece) > bufsize:  # like a real socket: at most bufsize now, the rest next time
            self._pieces.insert(0, piece[bufsize:])
            piece = piece[:bufsize]
        return piece


_NIHAO = "echo: 你好\n".encode("utf-8")
LINE_CASES = [  # (what the case shows, pieces recv() returns, what recv_line must return, call after call)
    ("a reply split across two recv() calls", [b"echo: hel", b"lo\n"], ["echo: hello", None]),
    ("two replies in one recv()", [b"echo: one\necho: two\n"], ["echo: one", "echo: two", None]),
    ("a Chinese character split between two recv() calls", [_NIHAO[:7], _NIHAO[7:]], ["echo: 你好", None]),
    ("the end of one reply and the start of the next in one recv()",
     [b"echo: a\necho: b", b"\n", b"echo: c\n"], ["echo: a", "echo: b", "echo: c", None]),
]


def _run_line_cases(recv_line) -> list:
    """Worker body: each case's returns, or the exception that stopped it, as plain data."""
    outcomes = []
    for _, pieces, expected in LINE_CASES:
        sock, buffer, got = FakeSocket(pieces), bytearray(), []
        try:
            for _ in expected:
                got.append(recv_line(sock, buffer))
        except Exception as exc:  # the learner's code may raise anything: report it as a hint
            got.append(f"raised {type(exc).__name__}: {exc}")
        outcomes.append(got)
    return outcomes


def check_recv_line(recv_line, *, timeout: float = 10.0) -> None:
    """Feed ``recv_line(sock, buffer)`` replies in awkward pieces; it must return each whole line, then None."""
    _check_function(recv_line, "recv_line")
    result = run([Worker(_run_line_cases, recv_line, name="line reader check")], timeout=timeout, output="none")
    outcome = result["line reader check"]
    if outcome.status == "timeout":
        raise AssertionError(f"recv_line did not return within {timeout:g} s. Does each turn of your loop call "
                             "sock.recv(...) and return None when it gets b''?")
    if not outcome.ok:
        raise AssertionError(f"the check could not run your function: {outcome.error}")
    for (what, pieces, expected), got in zip(LINE_CASES, outcome.value):
        if got != expected:
            hint = ""
            if any(isinstance(g, bytes) for g in got):
                hint = " Return str: decode the line's bytes with .decode('utf-8')."
            elif any(isinstance(g, str) and "UnicodeDecodeError" in g for g in got):
                hint = " Decode a line only once it is whole: a character's bytes can arrive in two pieces."
            raise AssertionError(
                f"{what}: recv() returned {pieces} and then b''; your calls returned {got}, expected {expected}. "
                f"Keep what you received in buffer until it holds a b'\\n'.{hint}"
            )
    print(f"✔ recv_line put together every reply from {len(LINE_CASES)} awkward ways of receiving it, "
          "and returned None when the server closed.")
