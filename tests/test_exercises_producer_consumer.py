"""The self-checks of 06_producer_consumer pass right answers and fail wrong ones (AssertionError with a hint)."""
import queue

import pytest

import helpers
from helpers.exercises import producer_consumer as pc


# -- Exercise 1: an eater that does not miss the last baozi ----------------------------------------
def eater(tray):
    eaten = []
    while True:
        baozi = tray.get()
        if baozi is None:
            return eaten
        eaten.append(baozi)


def eater_gives_up_after_a_second(tray):
    eaten = []
    while True:
        try:
            baozi = tray.get(timeout=1)
        except queue.Empty:
            return eaten
        if baozi is None:
            return eaten
        eaten.append(baozi)


def eater_eats_the_stop_signal(tray):
    eaten = []
    while True:
        try:
            eaten.append(tray.get(timeout=3))
        except queue.Empty:
            return eaten


def eater_never_stops(tray):
    eaten = []
    while True:
        eaten.append(tray.get())


def test_eater_right_answer_passes(start_method, capsys):
    pc.check_eater(eater)
    assert capsys.readouterr().out.startswith("✔")


@pytest.mark.parametrize("wrong", [eater_gives_up_after_a_second, eater_eats_the_stop_signal, eater_never_stops])
def test_eater_wrong_answers_fail(wrong):
    with pytest.raises(AssertionError):
        pc.check_eater(wrong)


# -- Exercise 2: closing the shop ------------------------------------------------------------------
def _workers(tray, cook, eater, n_cooks, n_eaters):
    cooks = [helpers.Worker(cook, tray, name=f"cook {i}") for i in range(1, n_cooks + 1)]
    eaters = [helpers.Worker(eater, tray, name=f"eater {i}") for i in range(1, n_eaters + 1)]
    return cooks, eaters


def open_shop(tray, cook, eater, n_cooks, n_eaters):
    cooks, eaters = _workers(tray, cook, eater, n_cooks, n_eaters)
    with helpers.start(eaters, output="none") as eating:
        helpers.run(cooks, timeout=30, output="none")
        for _ in range(n_eaters):
            tray.put(None)
        return eating.wait(timeout=10)


def open_shop_one_signal(tray, cook, eater, n_cooks, n_eaters):
    cooks, eaters = _workers(tray, cook, eater, n_cooks, n_eaters)
    with helpers.start(eaters, output="none") as eating:
        helpers.run(cooks, timeout=30, output="none")
        tray.put(None)
        return eating.wait(timeout=1)


def open_shop_signals_too_early(tray, cook, eater, n_cooks, n_eaters):
    cooks, eaters = _workers(tray, cook, eater, n_cooks, n_eaters)
    with helpers.start(eaters, output="none") as eating:
        with helpers.start(cooks, output="none") as cooking:
            for _ in range(n_eaters):
                tray.put(None)
            cooking.wait(timeout=30)
        return eating.wait(timeout=10)


def open_shop_too_many_signals(tray, cook, eater, n_cooks, n_eaters):
    cooks, eaters = _workers(tray, cook, eater, n_cooks, n_eaters)
    with helpers.start(eaters, output="none") as eating:
        helpers.run(cooks, timeout=30, output="none")
        for _ in range(n_eaters + n_cooks):
            tray.put(None)
        return eating.wait(timeout=10)


def open_shop_returns_nothing(tray, cook, eater, n_cooks, n_eaters):
    open_shop(tray, cook, eater, n_cooks, n_eaters)


def test_shop_right_answer_passes(start_method, capsys):
    pc.check_shop(open_shop)
    assert capsys.readouterr().out.startswith("✔")


@pytest.mark.parametrize("wrong", [
    open_shop_one_signal, open_shop_signals_too_early, open_shop_too_many_signals, open_shop_returns_nothing,
])
def test_shop_wrong_answers_fail(wrong):
    with pytest.raises(AssertionError):
        pc.check_shop(wrong)


def test_checks_need_a_function():
    with pytest.raises(TypeError):
        pc.check_eater(42)
    with pytest.raises(TypeError):
        pc.check_shop(None)
