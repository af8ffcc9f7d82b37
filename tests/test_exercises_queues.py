"""The self-checks of 05_queue pass right answers and fail wrong ones (AssertionError with a hint)."""
import pytest

from helpers.exercises import queues


# -- Exercise 1: a stage of a pipeline -------------------------------------------------------------
def stage(inbox, outbox, work):
    while True:
        item = inbox.get()
        if item is None:
            outbox.put(None)
            return
        outbox.put(work(item))


def stage_keeps_the_stop_signal(inbox, outbox, work):
    while True:
        item = inbox.get()
        if item is None:
            return
        outbox.put(work(item))


def stage_forgets_the_work(inbox, outbox, work):
    while True:
        item = inbox.get()
        outbox.put(item)
        if item is None:
            return


def stage_sends_two_stop_signals(inbox, outbox, work):
    stage(inbox, outbox, work)
    outbox.put(None)


def test_stage_right_answer_passes(start_method, capsys):
    queues.check_stage(stage)
    assert capsys.readouterr().out.startswith("✔")


@pytest.mark.parametrize("wrong", [stage_keeps_the_stop_signal, stage_forgets_the_work, stage_sends_two_stop_signals])
def test_stage_wrong_answers_fail(wrong):
    with pytest.raises(AssertionError):
        queues.check_stage(wrong)


# -- Exercise 2: a server behind a Pipe ------------------------------------------------------------
def server(conn):
    while True:
        n = conn.recv()
        if n is None:
            return
        conn.send(n * n)


def server_never_stops(conn):
    while True:
        n = conn.recv()
        if n is not None:
            conn.send(n * n)


def server_doubles(conn):
    while True:
        n = conn.recv()
        if n is None:
            return
        conn.send(n + n)


def server_never_replies(conn):
    while conn.recv() is not None:
        pass


def test_server_right_answer_passes(start_method, capsys):
    queues.check_server(server)
    assert capsys.readouterr().out.startswith("✔")


@pytest.mark.parametrize("wrong", [server_never_stops, server_doubles, server_never_replies])
def test_server_wrong_answers_fail(wrong):
    with pytest.raises(AssertionError):
        queues.check_server(wrong)


def test_checks_need_a_function():
    with pytest.raises(TypeError):
        queues.check_stage(None)
    with pytest.raises(TypeError):
        queues.check_server("server")
