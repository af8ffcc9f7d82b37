"""Self-checks for ``00_start_here.ipynb``."""
from __future__ import annotations


def check_squares(answer) -> None:
    """Four workers ``square 0`` .. ``square 3`` each returned the square of its number."""
    from ..runner import RunResult

    assert isinstance(answer, RunResult), (
        f"`answer` should be what helpers.run(...) returned, not {type(answer).__name__}."
    )
    names = [w.name for w in answer.workers]
    expected = [f"square {n}" for n in range(4)]
    assert names == expected, f"expected four workers named {expected}, found {names}."
    failed = [w.name for w in answer.workers if not w.ok]
    assert not failed, f"these workers did not finish cleanly: {failed}; look at the messages above the check."
    wrong = {w.name: w.value for w in answer.workers if w.value != int(w.name.split()[1]) ** 2}
    assert not wrong, f"these workers returned the wrong value (did you `return n * n`?): {wrong}."
    print("✔ four workers, each returned the square of its number.")
