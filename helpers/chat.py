"""The chat of chapter ``01_socket_chat.ipynb``: a TCP echo server with one process per client.

The article's server starts a process per connection and echoes what it receives. This version
keeps that design and fixes what goes wrong with it:

- a client that leaves makes ``recv`` return ``b''``; the handler then stops and closes the
  connection (the article's loops forever and never reaches ``conn.close()``);
- TCP carries a stream of bytes, not messages: each message is one UTF-8 line ending in ``\\n``,
  and :class:`LineReader` joins and splits what ``recv`` returns into those lines;
- a line over ``max_line`` bytes, invalid UTF-8 or a reset connection affects only that client;
- every blocking call has a timeout, and the server stops on request, ending its handler processes.

From a notebook, run :func:`serve` as a background worker and :func:`talk` in client workers.
From a terminal::

    python -m helpers.chat serve [--port N]      # prints its address; Ctrl-C stops it
    python -m helpers.chat connect HOST:PORT     # type lines, read the echoes; Ctrl-D or Ctrl-C leaves
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import re
import signal
import socket
import struct
import sys
import time

import multiprocess.connection
import multiprocess.util

from . import settings, trace
from .trace import mark, phase, set_worker_name

MAX_LINE = 1024  # bytes in one message, newline excluded
IDLE_TIMEOUT = 30.0  # seconds a handler waits for a client's next line
GRACE = 1.0  # seconds handlers get to finish on their own when the server stops
_POLL = 0.05  # how often the accept loop looks at the stop event


class LineTooLong(ValueError):
    """The peer sent more than ``max_line`` bytes without a newline."""


class ClosedMidLine(ConnectionError):
    """The peer closed the connection in the middle of a line."""


class LineReader:
    """Reads newline-terminated lines from a socket, whatever pieces ``recv`` returns them in.

    ``readline()`` returns the next line as bytes without its ``b"\\n"``, or None when the peer
    closed the connection between lines. It raises :class:`LineTooLong`, :class:`ClosedMidLine`,
    and whatever ``recv`` raises (``TimeoutError`` after the socket's timeout, ``ConnectionResetError``).
    """

    def __init__(self, sock, max_line: int = MAX_LINE):
        if isinstance(max_line, bool) or not isinstance(max_line, int) or max_line < 1:
            raise ValueError(f"max_line must be a whole number of bytes, at least 1; got {max_line!r}.")
        self.sock, self.max_line = sock, max_line
        self._buffer = bytearray()

    def readline(self) -> bytes | None:
        while True:
            end = self._buffer.find(b"\n")
            if end > self.max_line or (end < 0 and len(self._buffer) > self.max_line):
                raise LineTooLong(f"a line longer than {self.max_line} bytes")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return line
            chunk = self.sock.recv(4096)
            if not chunk:
                if self._buffer:
                    raise ClosedMidLine(f"the connection closed after {len(self._buffer)} bytes of an unfinished line")
                return None
            self._buffer += chunk


def send_line(sock, text: str) -> None:
    """Send ``text`` as one UTF-8 line."""
    sock.sendall(text.encode("utf-8") + b"\n")


# -- the server side -----------------------------------------------------------------------------


def echo(conn, n: int, *, max_line: int = MAX_LINE, verbose: bool = False) -> str:
    """The built-in handler: reply ``echo: <line>`` to each line until the client leaves.

    Runs in the per-client process, where ``conn`` already has its timeout. Returns how the
    conversation ended ("client left", "line too long", ...). ``verbose`` prints each message,
    as the article's server does (useful in a terminal; a notebook would not see it).
    """
    say = functools.partial(print, flush=True) if verbose else (lambda *args: None)
    reader = LineReader(conn, max_line)
    ending = "client left"
    try:
        while (line := reader.readline()) is not None:  # None: the client has left
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                # Framing is intact (we found the newline), so this client may go on.
                mark("invalid UTF-8")
                send_line(conn, "error: that message was not valid UTF-8")
                continue
            say(f"client {n}: {text}")
            send_line(conn, f"echo: {text}")
            mark("echo")
    except LineTooLong:
        # The rest of the line is still on its way; there is no telling where the next message starts.
        _send_quietly(conn, f"error: a message may have at most {max_line} bytes; closing")
        ending = "line too long"
    except TimeoutError:
        _send_quietly(conn, "error: no message for too long; closing")
        ending = "idle timeout"
    except ClosedMidLine:
        ending = "left mid-line"
    except ConnectionError:  # reset by the client, or a broken pipe while replying
        ending = "connection reset"
    say(f"client {n} done: {ending}")
    return ending


def _send_quietly(conn, text: str) -> None:
    with contextlib.suppress(OSError):
        send_line(conn, text)


def _close_gently(conn, linger: float = 0.5) -> None:
    """Close ``conn`` so that our last line reaches the client.

    Closing a socket with unread input makes the kernel reset the connection, and a reset can
    overtake the error line we just sent. So: say we are done sending, read and drop what the
    client still sends (for at most ``linger`` seconds), then close.
    """
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(linger)
        deadline = time.monotonic() + linger
        while time.monotonic() < deadline and conn.recv(4096):
            pass
    conn.close()


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def serve_client(handler, conn, n: int, trace_dir: str, idle_timeout: float) -> None:
    """The body of a per-client process: name it, serve the client with ``handler``, close.

    Marks the timeline with how the conversation ended; exits with code 1 if ``handler`` raised.
    """
    trace.adopt_session_dir(trace_dir)
    set_worker_name(f"server for client {n}")
    # SIGTERM from the server becomes SystemExit on every start method, so `finally` still closes.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    conn.settimeout(idle_timeout)
    failed = False
    ending = "handler returned"
    with phase("serving"):
        try:
            ending = handler(conn, n) or ending
        except SystemExit:
            ending = "stopped by the server"
        except KeyboardInterrupt:
            ending = "interrupted"
        except TimeoutError:  # the socket's timeout, set above: the client said nothing for too long
            ending = "idle timeout"
        except Exception as exc:  # the learner's handler may raise anything; report it, keep the server
            failed = True
            ending = f"error: {type(exc).__name__}: {exc}"
        finally:
            mark(ending)
            _close_gently(conn, linger=0.1 if ending == "stopped by the server" else 0.5)
    if failed:
        sys.exit(1)


def serve(ready=None, stop=None, *, host: str = "127.0.0.1", port: int = 0, max_clients: int | None = None,
          idle_timeout: float = IDLE_TIMEOUT, max_line: int = MAX_LINE, grace: float = GRACE,
          handler=None, verbose: bool = False) -> dict:
    """Accept clients and serve each in a process of its own; return a report when stopped.

    ``ready``: where to report the address once listening, as a ``(host, port)`` tuple: a Queue
    (``put``), a Pipe end (``send``) or a function. ``port=0`` lets the system pick a free port.
    The server stops when ``stop`` (an Event) is set, or after ``max_clients`` clients once all
    of them have left. Handlers still running then get ``grace`` seconds, then are terminated.
    ``handler(conn, n)`` replaces the built-in :func:`echo`; ``n`` counts clients from 1.

    Returns ``{"clients": accepted, "failed": handlers that raised, "forced to stop": terminated}``.
    """
    _check_port(port)
    if max_clients is not None and (isinstance(max_clients, bool) or not isinstance(max_clients, int) or max_clients < 1):
        raise ValueError(f"max_clients must be a whole number of at least 1, or None for no limit; got {max_clients!r}.")
    for label, value in (("idle_timeout", idle_timeout), ("grace", grace)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{label} must be a number of seconds greater than 0; got {value!r}.")
    if handler is None:
        handler = functools.partial(echo, max_line=max_line, verbose=verbose)
    elif not callable(handler):
        raise TypeError(f"handler must be a function handler(conn, n), not {type(handler).__name__}.")
    say = functools.partial(print, flush=True) if verbose else (lambda *args: None)
    ctx = settings.context()
    trace_dir = trace.session_dir()
    report = {"clients": 0, "failed": 0, "forced to stop": 0}
    running: list = []

    def reap():
        for process in [p for p in running if p.exitcode is not None]:
            running.remove(process)
            process.join()
            report["failed"] += process.exitcode != 0

    with socket.create_server((host, port)) as listener:
        listener.settimeout(_POLL)
        # A forked handler would inherit the listening socket and keep the port open after we close
        # it (new clients would then wait in vain instead of being refused): close it there.
        multiprocess.util.register_after_fork(listener, socket.socket.close)
        _announce(ready, listener.getsockname()[:2])
        try:
            while not _is_set(stop) and (max_clients is None or report["clients"] < max_clients):
                try:
                    conn, peer = listener.accept()
                except TimeoutError:
                    reap()
                    continue
                report["clients"] += 1
                n = report["clients"]
                with conn:  # the handler has its own copy once started; ours must go, or the client never sees EOF
                    process = ctx.Process(target=serve_client, args=(handler, conn, n, trace_dir, idle_timeout),
                                          name=f"server for client {n}", daemon=True)
                    process.start()
                running.append(process)
                say(f"client {n} connected from {peer[0]}:{peer[1]}")
            listener.close()  # no more clients; those connected go on until they leave or stop is set
            while running and not _is_set(stop):
                multiprocess.connection.wait([p.sentinel for p in running], _POLL)
                reap()
        finally:
            report["forced to stop"] += _finish(running, grace)
            reap()
    return report


def _finish(processes: list, grace: float) -> int:
    """Give ``processes`` ``grace`` seconds, then terminate (and if need be kill) the rest."""
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    late = [p for p in processes if p.exitcode is None]
    for process in late:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in late:
        process.join(grace)
        if process.exitcode is None:
            with contextlib.suppress(Exception):
                process.kill()
            process.join(grace)
    return len(late)


def _is_set(stop) -> bool:
    return stop is not None and stop.is_set()


def _announce(ready, address) -> None:
    if ready is None:
        return
    if hasattr(ready, "put"):
        ready.put(address)
    elif hasattr(ready, "send"):
        ready.send(address)
    elif callable(ready):
        ready(address)
    else:
        raise TypeError(f"ready must be a Queue, a Pipe end or a function, not {type(ready).__name__}.")


def _check_port(port) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be a whole number from 0 to 65535 (0: let the system choose); got {port!r}.")
    return port


# -- the client side -----------------------------------------------------------------------------


def parse_address(address) -> tuple:
    """``(host, port)`` from a ``(host, port)`` tuple or a ``"host:port"`` string."""
    if isinstance(address, str):
        host, colon, port_text = address.rpartition(":")
        if not colon or not host or not port_text.isdigit():
            raise ValueError(f"address {address!r} is not HOST:PORT, e.g. '127.0.0.1:9595'.")
        address = (host, int(port_text))
    if not isinstance(address, (tuple, list)) or len(address) != 2 or not isinstance(address[0], str):
        raise ValueError(f"address must be (host, port) or 'HOST:PORT', e.g. ('127.0.0.1', 9595); got {address!r}.")
    return address[0], _check_port(address[1])


def talk(address, lines, *, timeout: float = 5.0, pause: float = 0.0, together=None) -> list:
    """Connect, send each line and wait for its reply; return the replies as strings.

    ``pause``: seconds (scaled, see :func:`helpers.sleep`) between lines. ``together``: a Barrier
    every client waits at after its first reply, so that all conversations are open at once.
    Fewer replies than lines means the server closed the connection. Each wait for a reply is a
    "waiting for a reply" phase on the timeline.
    """
    host, port = parse_address(address)
    lines = list(lines)
    for line in lines:
        if not isinstance(line, str) or "\n" in line:
            raise ValueError(f"talk() sends text lines without '\\n' (one message each); got {line!r}.")
    replies = []
    with socket.create_connection((host, port), timeout=timeout) as sock:
        reader = LineReader(sock, 4 * MAX_LINE)
        try:
            for i, line in enumerate(lines):
                if i and pause:
                    settings.sleep(pause)
                send_line(sock, line)
                with phase("waiting for a reply"):
                    reply = reader.readline()
                if reply is None:
                    break
                replies.append(reply.decode("utf-8", errors="replace"))
                if i == 0 and together is not None:
                    together.wait(timeout)
        except ConnectionError:  # the server closed on us (e.g. after an error line)
            pass
    return replies


def send_raw(address, chunks, *, timeout: float = 5.0, pause: float = 0.0, expect: int | None = None,
             reset: bool = False) -> list:
    """Send bytes exactly as given (one ``sendall`` per chunk), then read the replies.

    For misbehaving clients: split or merged messages, invalid UTF-8, over-long lines. Reads
    ``expect`` reply lines, or (``None``) every line until the server closes. With ``reset=True``
    the client does not wait for replies but resets the connection (what a crashed program or a
    pulled cable looks like to the server) and returns [].
    """
    host, port = parse_address(address)
    chunks = list(chunks)
    for chunk in chunks:
        if not isinstance(chunk, (bytes, bytearray)):
            raise TypeError(f"send_raw() sends bytes, e.g. b'hello\\n'; got {type(chunk).__name__}.")
    with socket.create_connection((host, port), timeout=timeout) as sock:
        for i, chunk in enumerate(chunks):
            if i and pause:
                settings.sleep(pause)
            sock.sendall(chunk)
        if reset:
            # Linger on, with a time of 0: close() sends RST instead of the polite FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return []
        sock.shutdown(socket.SHUT_WR)  # "I have said everything": the server sees EOF after our last line
        reader = LineReader(sock, 4 * MAX_LINE)
        replies = []
        with contextlib.suppress(ConnectionError):
            while expect is None or len(replies) < expect:
                reply = reader.readline()
                if reply is None:
                    break
                replies.append(reply.decode("utf-8", errors="replace"))
        return replies


# -- reading the trace -------------------------------------------------------------------------

_HANDLER = re.compile(r"server for client (\d+)$")


def handlers(trace_) -> list:
    """Names of the per-client processes in a trace, in client order."""
    found = [(int(m.group(1)), w) for w in trace_.workers if (m := _HANDLER.match(w))]
    return [w for _, w in sorted(found)]


def marks(trace_, worker: str) -> list:
    """The marks ``worker`` recorded, in order (for a handler: "echo" per reply, then how it ended)."""
    return [e.detail for e in trace_.events if e.worker == worker and e.kind == "mark"]


def ending(trace_, n: int) -> str | None:
    """How the conversation with client ``n`` ended, or None if its handler had not ended."""
    found = marks(trace_, f"server for client {n}")
    return found[-1] if found and found[-1] not in ("echo", "invalid UTF-8") else None


# -- the terminal commands ---------------------------------------------------------------------


def _serve_command(args) -> int:
    def announce(address):
        print(f"chat server listening on {address[0]}:{address[1]}; stop it with Ctrl-C", flush=True)

    # `kill` (SIGTERM) then stops the server as cleanly as Ctrl-C: serve() ends its handlers on the way out.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        report = serve(announce, host=args.host, port=args.port, idle_timeout=args.idle_timeout, verbose=True)
    except (KeyboardInterrupt, SystemExit):
        print("\nserver stopped", flush=True)
        return 0
    except OSError as exc:
        print(f"cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"server stopped after {report['clients']} clients", flush=True)
    return 0


def _connect_command(args) -> int:
    try:
        host, port = parse_address(args.address)
        sock = socket.create_connection((host, port), timeout=args.timeout)
    except (ValueError, OSError) as exc:
        print(f"cannot connect to {args.address}: {exc}", file=sys.stderr)
        return 1
    with sock:
        reader = LineReader(sock, 4 * MAX_LINE)
        try:
            while True:
                try:
                    line = input(">>> ")
                except EOFError:  # Ctrl-D, or the end of piped input
                    print()
                    return 0
                send_line(sock, line)
                with phase("waiting for a reply"):
                    reply = reader.readline()
                if reply is None:
                    print("the server closed the connection")
                    return 1
                print(reply.decode("utf-8", errors="replace"), flush=True)
        except KeyboardInterrupt:
            print()
            return 0
        except (OSError, ValueError) as exc:
            print(f"connection lost: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.chat", description="The chapter 01 chat, in a terminal.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the echo server (Ctrl-C stops it)")
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve_parser.add_argument("--port", type=int, default=0, help="port (default 0: the system picks a free one)")
    serve_parser.add_argument("--idle-timeout", type=float, default=600.0, help="seconds a client may stay silent")
    connect_parser = commands.add_parser("connect", help="chat with a server: type lines, read the replies")
    connect_parser.add_argument("address", help="HOST:PORT, as printed by the server")
    connect_parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a reply")
    args = parser.parse_args(argv)
    return _serve_command(args) if args.command == "serve" else _connect_command(args)


if __name__ == "__main__":
    # Run the importable module's main, not this __main__ copy, so that child processes find
    # serve_client and echo by their real name, helpers.chat.
    from helpers.chat import main as _main

    sys.exit(_main())
