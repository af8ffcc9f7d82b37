"""The self-check of 00_start_here passes a right answer and fails wrong ones."""
import pytest

import helpers
from helpers import Worker, run


def square(n):
    return n * n


def double(n):
    return n + n


def test_right_answer_passes(capsys):
    helpers.exercises.start.check_squares(run([Worker(square, n, name=f"square {n}") for n in range(4)]))
    assert capsys.readouterr().out.startswith("✔")


@pytest.mark.parametrize("answer", [
    lambda: run([Worker(double, n, name=f"square {n}") for n in range(4)]),
    lambda: run([Worker(square, n, name=f"square {n}") for n in range(3)]),
    lambda: run([Worker(square, 0, name="square 0")]),
    lambda: "not a result",
])
def test_wrong_answers_fail(answer):
    with pytest.raises(AssertionError):
        helpers.exercises.start.check_squares(answer())
