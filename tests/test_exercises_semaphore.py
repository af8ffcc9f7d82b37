"""Self-checks of 03_semaphore.ipynb: they pass the solutions and fail (AssertionError) the usual wrong answers."""
import pytest

import helpers
from helpers.exercises import semaphore as ex


def request_without_pool(n, pool, db):  # the exercise's starting point
    return db.query(n)


def request_with_pool(n, pool, db):
    with pool:
        return db.query(n)


def request_outside_pool(n, pool, db):
    with pool:
        pass
    return db.query(n)


def request_returning_nothing(n, pool, db):
    with pool:
        db.query(n)


def test_pool_solution_passes(start_method, capsys):
    ex.check_pool(request_with_pool, helpers.Semaphore(3, name="pool"))
    assert capsys.readouterr().out.startswith("✔ all 8 requests were served")


@pytest.mark.parametrize(
    "handler, permits, words",
    [
        (request_without_pool, 8, "8 requests were connected at once"),
        (request_with_pool, 5, "5 requests were connected at once"),
        (request_with_pool, 1, "too small"),
        (request_outside_pool, 3, "connected at once|without holding a permit"),
        (request_returning_nothing, 3, "return what db.query"),
    ],
)
def test_pool_wrong_answers_fail(handler, permits, words):
    with pytest.raises(AssertionError, match=words):
        ex.check_pool(handler, helpers.Semaphore(permits, name="pool"))


def test_pool_check_wants_a_traced_semaphore():
    with pytest.raises(TypeError, match="helpers.Semaphore"):
        ex.check_pool(request_with_pool, 3)
    with pytest.raises(TypeError, match="function itself"):
        ex.check_pool("handler", helpers.Semaphore(3))
    with pytest.raises(ValueError, match="at least 1"):
        ex.Database(0)


def a_naive(step, a_arrived, b_arrived):  # the exercise's starting point
    step("a1")
    step("a2")


def b_naive(step, a_arrived, b_arrived):
    step("b1")
    step("b2")


def a_right(step, a_arrived, b_arrived):
    step("a1")
    a_arrived.release()
    b_arrived.acquire()
    step("a2")


def b_right(step, a_arrived, b_arrived):
    step("b1")
    b_arrived.release()
    a_arrived.acquire()
    step("b2")


def a_waits_first(step, a_arrived, b_arrived):
    step("a1")
    b_arrived.acquire()
    a_arrived.release()
    step("a2")


def b_waits_first(step, a_arrived, b_arrived):
    step("b1")
    a_arrived.acquire()
    b_arrived.release()
    step("b2")


def b_forgets_a_step(step, a_arrived, b_arrived):
    step("b1")
    b_arrived.release()
    a_arrived.acquire()


def test_rendezvous_solution_passes(start_method, capsys):
    ex.check_rendezvous(a_right, b_right)
    assert capsys.readouterr().out.startswith("✔ a1 came before b2")


def test_rendezvous_one_waiting_first_still_passes():
    # Only one side waiting first is a correct (if slower) rendezvous.
    ex.check_rendezvous(a_right, b_waits_first)


@pytest.mark.parametrize(
    "a, b, words",
    [
        (a_naive, b_naive, "started before"),
        (a_waits_first, b_waits_first, "deadlock"),
        (a_right, b_forgets_a_step, "exactly once"),
    ],
)
def test_rendezvous_wrong_answers_fail(a, b, words):
    with pytest.raises(AssertionError, match=words):
        ex.check_rendezvous(a, b)


def test_rendezvous_check_refuses_what_is_not_a_function():
    with pytest.raises(TypeError, match="two functions"):
        ex.check_rendezvous(a_right, "b")


def test_step_takes_a_name():
    with pytest.raises(TypeError, match="statement's name"):
        ex.Step()(1)
