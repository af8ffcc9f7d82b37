"""helpers.exercises.chat: each check passes a right answer and fails (AssertionError) on wrong ones."""
import pytest

from helpers import chat
from helpers.exercises import chat as exercises


def handle(conn, n):
    reader = chat.LineReader(conn)
    while (line := reader.readline()) is not None:
        conn.sendall(f"client {n}: {line.decode('utf-8').upper()}\n".encode("utf-8"))


def handle_starter(conn, n):  # the notebook's starting point
    reader = chat.LineReader(conn)
    while True:
        line = reader.readline()
        conn.sendall(line.upper() + b"\n")


clients_seen = 0


def handle_counting_in_the_handler(conn, n):
    global clients_seen
    clients_seen += 1
    reader = chat.LineReader(conn)
    while (line := reader.readline()) is not None:
        conn.sendall(f"client {clients_seen}: {line.decode('utf-8').upper()}\n".encode("utf-8"))


def handle_one_recv_per_message(conn, n):
    while data := conn.recv(1024):
        conn.sendall(f"client {n}: {data.decode('utf-8').strip().upper()}\n".encode("utf-8"))


def handle_never_stops(conn, n):
    reader = chat.LineReader(conn)
    while True:
        line = reader.readline()
        if line is not None:
            conn.sendall(f"client {n}: {line.decode('utf-8').upper()}\n".encode("utf-8"))


def handle_forgets_newline(conn, n):
    reader = chat.LineReader(conn)
    while (line := reader.readline()) is not None:
        conn.sendall(f"client {n}: {line.decode('utf-8').upper()}".encode("utf-8"))


def test_check_handler_passes_a_right_answer(start_method, capsys):
    exercises.check_handler(handle)
    assert capsys.readouterr().out.startswith("✔ 3 clients")


@pytest.mark.parametrize("wrong, hint", [
    (handle_starter, "readline\\(\\) returns None"),
    (handle_counting_in_the_handler, "Use the n the server passes in"),
    (handle_one_recv_per_message, "one recv\\(\\) is not one message"),
    (handle_never_stops, "still running after their client had left"),
    (handle_forgets_newline, "never came"),
])
def test_check_handler_fails_wrong_answers(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        exercises.check_handler(wrong)


def test_check_handler_refuses_a_non_function():
    with pytest.raises(TypeError, match="function"):
        exercises.check_handler("handle")


def recv_line(sock, buffer):
    while b"\n" not in buffer:
        data = sock.recv(1024)
        if not data:
            return None
        buffer += data
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line.decode("utf-8")


def recv_line_starter(sock, buffer):  # the notebook's starting point: the article's one recv() per message
    data = sock.recv(1024)
    if not data:
        return None
    return data.decode("utf-8").rstrip("\n")


def recv_line_decoding_pieces(sock, buffer):
    text = ""
    while "\n" not in text:
        data = sock.recv(1024)
        if not data:
            return None
        text += data.decode("utf-8")
    return text.rstrip("\n")


def recv_line_returning_bytes(sock, buffer):
    while b"\n" not in buffer:
        data = sock.recv(1024)
        if not data:
            return None
        buffer += data
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line


def recv_line_decoding_each_recv(sock, buffer):
    while b"\n" not in buffer:
        data = sock.recv(1024)
        if not data:
            return None
        buffer += data.decode("utf-8").encode("utf-8")  # checks each piece on its own: breaks a split character
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line.decode("utf-8")


def recv_line_forever(sock, buffer):
    while b"\n" not in buffer:
        sock.recv(1024)


def test_check_recv_line_passes_a_right_answer(start_method, capsys):
    exercises.check_recv_line(recv_line)
    assert capsys.readouterr().out.startswith("✔ recv_line")


@pytest.mark.parametrize("wrong, hint", [
    (recv_line_starter, "split across two recv"),
    (recv_line_decoding_pieces, "two replies in one recv"),
    (recv_line_returning_bytes, "Return str"),
    (recv_line_decoding_each_recv, "Decode a line only once it is whole"),
    (recv_line_forever, "called again and again"),
])
def test_check_recv_line_fails_wrong_answers(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        exercises.check_recv_line(wrong)


def test_check_recv_line_stops_a_function_that_never_returns():
    def spins(sock, buffer):
        while True:
            pass

    with pytest.raises(AssertionError, match="did not return within 1 s"):
        exercises.check_recv_line(spins, timeout=1)
