"""The self-checks of 04_event pass right answers and fail wrong ones (AssertionError with a hint)."""
import pytest

import helpers
from helpers.exercises import event


# -- Exercise 1: the starting gun ------------------------------------------------------------------
def sprinter(gun):
    gun.wait()
    with helpers.phase("running"):
        helpers.sleep(0.5)


def sprinter_jumps_the_gun(gun):
    with helpers.phase("running"):
        helpers.sleep(0.5)


def sprinter_waits_after_running(gun):
    with helpers.phase("running"):
        helpers.sleep(0.5)
    gun.wait()


def sprinter_never_runs(gun):
    gun.wait()


def test_sprinter_right_answer_passes(start_method, capsys):
    event.check_sprinter(sprinter)
    assert capsys.readouterr().out.startswith("✔")


@pytest.mark.parametrize("wrong", [sprinter_jumps_the_gun, sprinter_waits_after_running, sprinter_never_runs])
def test_sprinter_wrong_answers_fail(wrong):
    with pytest.raises(AssertionError):
        event.check_sprinter(wrong)


def test_sprinter_needs_a_function():
    with pytest.raises(TypeError):
        event.check_sprinter("sprinter")


# -- Exercise 2: bakers and the oven ---------------------------------------------------------------
def baker(hot, patience):
    if hot.wait(timeout=patience):
        with helpers.phase("baking"):
            helpers.sleep(0.5)
        return "baked"
    return "gave up"


def baker_waits_forever(hot, patience):
    hot.wait()
    with helpers.phase("baking"):
        helpers.sleep(0.5)
    return "baked"


def baker_ignores_the_answer(hot, patience):
    hot.wait(timeout=patience)
    with helpers.phase("baking"):
        helpers.sleep(0.5)
    return "baked"


def baker_does_not_wait(hot, patience):
    with helpers.phase("baking"):
        helpers.sleep(0.5)
    return "baked"


def test_baker_right_answer_passes(start_method, capsys):
    event.check_baker(baker)
    assert capsys.readouterr().out.startswith("✔")


@pytest.mark.parametrize("wrong", [baker_waits_forever, baker_ignores_the_answer, baker_does_not_wait])
def test_baker_wrong_answers_fail(wrong):
    with pytest.raises(AssertionError):
        event.check_baker(wrong)
