"""Self-checks of 02_lock.ipynb: they pass the solutions and fail (AssertionError) the usual wrong answers."""
import pytest

from helpers.exercises import lock as ex


def buy_with_lock_on_write_only(i, store, lock, pause):  # the exercise's starting point
    count = store.read()
    pause()
    if count > 0:
        with lock:
            store.write(count - 1)
        return True
    return False


def buy_fixed(i, store, lock, pause):
    with lock:
        count = store.read()
        pause()
        if count > 0:
            store.write(count - 1)
            return True
        return False


def buy_without_pause(i, store, lock, pause):
    with lock:
        count = store.read()
        if count > 0:
            store.write(count - 1)
            return True
        return False


def buy_returning_text(i, store, lock, pause):
    buy_fixed(i, store, lock, pause)
    return "ok"


def buy_with_own_lock(i, store, lock, pause):
    import multiprocess

    return buy_fixed(i, store, multiprocess.Lock(), pause)


def put_back_unlocked(store, lock, returned, pause):  # the exercise's starting point
    for _ in range(returned):
        count = store.read()
        pause()
        store.write(count + 1)


def put_back_locked_twice(store, lock, returned, pause):
    for _ in range(returned):
        with lock:
            count = store.read()
        pause()
        with lock:
            store.write(count + 1)


def put_back_fixed(store, lock, returned, pause):
    for _ in range(returned):
        with lock:
            count = store.read()
            pause()
            store.write(count + 1)


def put_back_whole_loop_locked(store, lock, returned, pause):
    with lock:
        put_back_unlocked(store, lock, returned, pause)


def put_back_too_few(store, lock, returned, pause):
    put_back_fixed(store, lock, returned - 1, pause)


def test_buyer_solution_passes(start_method, capsys):
    ex.check_buyer(buy_fixed)
    assert capsys.readouterr().out.startswith("✔ 3 of 5 buyers got a ticket")


@pytest.mark.parametrize(
    "wrong, words",
    [
        (buy_with_lock_on_write_only, "5 buyers were told"),
        (buy_without_pause, "never called pause()"),
        (buy_returning_text, "return True"),
    ],
)
def test_buyer_wrong_answers_fail(wrong, words):
    with pytest.raises(AssertionError, match=words):
        ex.check_buyer(wrong)


def test_buyer_with_a_lock_of_its_own_fails():
    # Under fork a new Lock in each worker protects nothing; the race (or the trace) shows it.
    with pytest.raises(AssertionError):
        ex.check_buyer(buy_with_own_lock)


@pytest.mark.parametrize("right", [put_back_fixed, put_back_whole_loop_locked])
def test_put_back_solutions_pass(right, capsys):
    ex.check_put_back(right)
    assert "the store says 12" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, words",
    [
        (put_back_unlocked, "updates were lost"),
        (put_back_locked_twice, "updates were lost|released the lock"),
        (put_back_too_few, "9 times"),
    ],
)
def test_put_back_wrong_answers_fail(wrong, words, start_method):
    with pytest.raises(AssertionError, match=words):
        ex.check_put_back(wrong)


def test_checks_refuse_what_is_not_a_function():
    with pytest.raises(TypeError, match="function itself"):
        ex.check_buyer("buy")
    with pytest.raises(TypeError, match="function itself"):
        ex.check_put_back(None)
