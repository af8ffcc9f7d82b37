"""helpers.chat: line framing, the one-process-per-client server on every start method, bad clients,
stopping, and the two terminal commands."""
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import helpers
from helpers import Worker, chat

ROOT = Path(__file__).resolve().parent.parent


class Pieces:
    """A fake socket whose recv() returns the given pieces, then b''."""

    def __init__(self, *pieces):
        self.pieces = list(pieces)

    def recv(self, bufsize):
        return self.pieces.pop(0) if self.pieces else b""


@contextlib.contextmanager
def server(**kwargs):
    """A chat server in a background worker; yields (address, stop, outcome) and stops it at the end.

    ``outcome`` is filled in with the server's RunResult once it has stopped.
    """
    ready, stop = helpers.Queue(name="ready"), helpers.Event(name="stop")
    kwargs.setdefault("idle_timeout", 5.0)
    running = helpers.start([Worker(chat.serve, ready, stop, name="server", **kwargs)], output="none")
    outcome = {}
    try:
        address = ready.get(timeout=20)
        yield address, stop, outcome
    finally:
        stop.set()
        outcome["result"] = running.wait(20)


def report_of(outcome):
    result = outcome["result"]
    assert result.ok, result["server"].error
    return result["server"].value, result.trace


# -- framing -------------------------------------------------------------------------------------


def test_line_reader_joins_pieces_and_splits_lines():
    reader = chat.LineReader(Pieces(b"echo: hel", b"lo\necho: ", "你".encode()[:1], "你好\n".encode()[1:] + b"x\n"))
    assert reader.readline() == b"echo: hello"
    assert reader.readline().decode() == "echo: 你好"
    assert reader.readline() == b"x"
    assert reader.readline() is None


def test_line_reader_limits_line_length_with_or_without_newline():
    assert chat.LineReader(Pieces(b"abcd\n"), max_line=4).readline() == b"abcd"
    with pytest.raises(chat.LineTooLong):
        chat.LineReader(Pieces(b"abcde\n"), max_line=4).readline()
    with pytest.raises(chat.LineTooLong):
        chat.LineReader(Pieces(b"abc", b"de"), max_line=4).readline()


def test_line_reader_reports_a_connection_closed_mid_line():
    reader = chat.LineReader(Pieces(b"one\ntw"))
    assert reader.readline() == b"one"
    with pytest.raises(chat.ClosedMidLine):
        reader.readline()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "1024"])
def test_line_reader_rejects_bad_max_line(bad):
    with pytest.raises(ValueError, match="max_line"):
        chat.LineReader(Pieces(), max_line=bad)


def test_parse_address():
    assert chat.parse_address("127.0.0.1:9595") == ("127.0.0.1", 9595)
    assert chat.parse_address(("localhost", 80)) == ("localhost", 80)
    for bad in ["127.0.0.1", "127.0.0.1:port", ":80", ("h", 70000), ("h",), 9595, ("h", "80")]:
        with pytest.raises(ValueError):
            chat.parse_address(bad)


def test_bad_arguments_are_refused_before_anything_connects():
    with pytest.raises(ValueError, match="without '\\\\n'"):
        chat.talk(("127.0.0.1", 9), ["two\nlines"])
    with pytest.raises(TypeError, match="bytes"):
        chat.send_raw(("127.0.0.1", 9), ["text"])
    with pytest.raises(ValueError, match="port"):
        chat.serve(port=-1)
    with pytest.raises(ValueError, match="max_clients"):
        chat.serve(max_clients=0)
    with pytest.raises(ValueError, match="idle_timeout"):
        chat.serve(idle_timeout=0)
    with pytest.raises(TypeError, match="handler"):
        chat.serve(handler="echo")


# -- the server, on every start method -------------------------------------------------------------


def test_one_process_per_client_serving_at_once(start_method):
    together = helpers.Barrier(3, name="together")
    lines = {i: [f"hello from {i}", "你好", "bye"] for i in (1, 2, 3)}
    with server() as (address, stop, outcome):
        clients = helpers.run(
            [Worker(chat.talk, address, lines[i], pause=0.2, together=together, name=f"client {i}") for i in (1, 2, 3)],
            timeout=30, output="none",
        )
    assert clients.ok, [w.error for w in clients.workers]
    for i in (1, 2, 3):
        assert clients[f"client {i}"].value == [f"echo: {line}" for line in lines[i]]
    report, trace = report_of(outcome)
    assert report == {"clients": 3, "failed": 0, "forced to stop": 0}
    assert chat.handlers(trace) == ["server for client 1", "server for client 2", "server for client 3"]
    for name in chat.handlers(trace):
        assert chat.marks(trace, name) == ["echo", "echo", "echo", "client left"]
    # The barrier holds every client after its first reply, so all three handlers serve at once.
    assert helpers.facts.max_in_phase(trace, "serving") == 3


def test_bad_clients_affect_only_themselves(start_method):
    with server() as (address, stop, outcome):
        assert chat.send_raw(address, [b"x" * 3000 + b"\n"]) == ["error: a message may have at most 1024 bytes; closing"]
        assert chat.talk(address, ["x" * 1025, "more"]) == ["error: a message may have at most 1024 bytes; closing"]
        assert chat.send_raw(address, [b"\xff\xfe\n", b"ok\n"]) == ["error: that message was not valid UTF-8", "echo: ok"]
        assert chat.send_raw(address, [b"half a mess"], reset=True) == []
        assert chat.send_raw(address, [b"half a mess"]) == []
        assert chat.send_raw(address, [b"he", b"llo\nwor", b"ld\n"], pause=0.1) == ["echo: hello", "echo: world"]
        assert chat.talk(address, ["x" * 1024]) == ["echo: " + "x" * 1024]
        assert chat.talk(address, ["still there?"]) == ["echo: still there?"]
    report, trace = report_of(outcome)
    assert report == {"clients": 8, "failed": 0, "forced to stop": 0}
    endings = [chat.ending(trace, n) for n in range(1, 9)]
    assert endings == ["line too long", "line too long", "client left", "connection reset", "left mid-line",
                       "client left", "client left", "client left"]
    assert chat.marks(trace, "server for client 3") == ["invalid UTF-8", "echo", "client left"]


def test_stop_ends_a_handler_whose_client_stays(start_method):
    with server(grace=0.3) as (address, stop, outcome):
        with socket.create_connection(address, timeout=5) as idle:
            chat.send_line(idle, "I will stay")
            assert chat.LineReader(idle).readline() == b"echo: I will stay"
            stop.set()
            outcome_wait = chat.LineReader(idle).readline()  # the server closes on us
            assert outcome_wait is None
    report, trace = report_of(outcome)
    assert report == {"clients": 1, "failed": 0, "forced to stop": 1}
    assert chat.ending(trace, 1) == "stopped by the server"


def test_max_clients_ends_the_server_when_they_have_left(start_method):
    ready = helpers.Queue(name="ready")
    with helpers.start([Worker(chat.serve, ready, max_clients=2, name="server")], output="none") as running:
        address = ready.get(timeout=20)
        assert chat.talk(address, ["one"]) == ["echo: one"]
        assert chat.talk(address, ["two"]) == ["echo: two"]
        result = running.wait(20)
    assert result.ok
    assert result["server"].value == {"clients": 2, "failed": 0, "forced to stop": 0}


def test_no_new_client_is_accepted_after_the_last(start_method):
    ready = helpers.Queue(name="ready")
    with helpers.start([Worker(chat.serve, ready, max_clients=1, name="server")], output="none") as running:
        address = ready.get(timeout=20)
        with socket.create_connection(address, timeout=5) as first:
            chat.send_line(first, "hello")
            assert chat.LineReader(first).readline() == b"echo: hello"
            # The listening socket is closed, in the handler too (under fork it inherited a copy):
            # a latecomer is refused at once instead of waiting in a queue nobody serves.
            refused = False
            for _ in range(100):
                try:
                    socket.create_connection(address, timeout=5).close()
                except ConnectionRefusedError:
                    refused = True
                    break
                time.sleep(0.02)
            assert refused
        assert running.wait(20).ok


def test_idle_client_is_told_and_closed():
    with server(idle_timeout=0.3) as (address, stop, outcome):
        assert chat.send_raw(address, [], expect=None, timeout=5) == []  # says nothing but EOF: "client left"
        with socket.create_connection(address, timeout=5) as silent:
            reader = chat.LineReader(silent)
            assert reader.readline() == b"error: no message for too long; closing"
            assert reader.readline() is None
    report, trace = report_of(outcome)
    assert [chat.ending(trace, n) for n in (1, 2)] == ["client left", "idle timeout"]


def raises_on_second_line(conn, n):
    reader = chat.LineReader(conn)
    chat.send_line(conn, f"hi {n}")
    reader.readline()
    reader.readline()
    raise RuntimeError("the learner's bug")


def test_a_failing_handler_is_reported_and_the_server_goes_on():
    with server(handler=raises_on_second_line) as (address, stop, outcome):
        assert chat.talk(address, ["a", "b"]) == ["hi 1"]
        assert chat.talk(address, ["c", "d"]) == ["hi 2"]
    report, trace = report_of(outcome)
    assert report == {"clients": 2, "failed": 2, "forced to stop": 0}
    assert chat.ending(trace, 1) == "error: RuntimeError: the learner's bug"


def test_ready_can_be_a_pipe_end():
    receive, send = helpers.Pipe(duplex=False, name="ready")
    stop = helpers.Event(name="stop")
    with helpers.start([Worker(chat.serve, send, stop, name="server")], output="none") as running:
        address = receive.recv(timeout=20)
        assert chat.talk(address, ["via a pipe"]) == ["echo: via a pipe"]
        stop.set()
        assert running.wait(20).ok


# -- the terminal commands ---------------------------------------------------------------------


def command(*args, **kwargs):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return [sys.executable, "-m", "helpers.chat", *args], dict(cwd=ROOT, env=env, text=True, **kwargs)


def first_line(process, timeout=30):
    """The process's first line of output; fails the test if none comes within ``timeout`` seconds."""
    lines = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not lines:  # the caller's `finally` kills the process, which ends the reader
        pytest.fail(f"the server printed no line within {timeout} s (still running: {process.poll() is None})")
    return lines[0]


def test_terminal_commands(start_method):
    argv, options = command("serve", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    serving = subprocess.Popen(argv, **options)
    try:
        first = first_line(serving)
        match = re.search(r"127\.0\.0\.1:(\d+)", first)
        assert match, first
        argv, options = command("connect", match.group(0), input="hello\n你好\n", capture_output=True, timeout=30)
        talked = subprocess.run(argv, **options)
        assert talked.returncode == 0, talked.stderr
        assert talked.stdout == ">>> echo: hello\n>>> echo: 你好\n>>> \n"
        serving.send_signal(signal.SIGINT)  # what Ctrl-C does
        rest, _ = serving.communicate(timeout=20)
    finally:
        if serving.poll() is None:
            serving.kill()
            serving.communicate(timeout=10)
    assert serving.returncode == 0
    assert "client 1: hello\nclient 1: 你好\nclient 1 done: client left\n" in rest
    assert rest.endswith("server stopped\n")


def test_connect_reports_a_server_that_is_not_there():
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    argv, options = command("connect", f"127.0.0.1:{port}", input="", capture_output=True, timeout=30)
    refused = subprocess.run(argv, **options)
    assert refused.returncode == 1
    assert "cannot connect" in refused.stderr
    argv, options = command("connect", "no-port", input="", capture_output=True, timeout=30)
    assert subprocess.run(argv, **options).returncode == 1


def test_terminal_server_stopped_by_sigterm_ends_its_handlers(start_method):
    argv, options = command("serve", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    serving = subprocess.Popen(argv, **options)
    try:
        address = re.search(r"127\.0\.0\.1:\d+", first_line(serving)).group(0)
        with socket.create_connection(chat.parse_address(address), timeout=10) as staying:
            chat.send_line(staying, "I am staying")
            assert chat.LineReader(staying).readline() == b"echo: I am staying"
            serving.terminate()
            rest, _ = serving.communicate(timeout=20)
            assert chat.LineReader(staying).readline() is None  # the handler closed the connection
    finally:
        if serving.poll() is None:
            serving.kill()
            serving.communicate(timeout=10)
    assert serving.returncode == 0
    assert rest.endswith("server stopped\n")
