"""Self-checks for the chapters' exercises, one module per chapter.

Each check runs the learner's code (through ``helpers.run``) and judges it by behaviour, from the
trace or from the accounting, never by the text it prints. A check prints one line starting with
"✔" when the answer is right and raises AssertionError with a hint when it is not; tests feed each
check a wrong answer to prove it fails.
"""


def __getattr__(chapter: str):
    # `helpers.exercises.lock.check_buyer(...)` works without importing each chapter's module first.
    import importlib

    try:
        return importlib.import_module(f"{__name__}.{chapter}")
    except ModuleNotFoundError:
        raise AttributeError(f"helpers.exercises has no checks named {chapter!r}.") from None
