"""helpers.tickets.TicketStore: reading, atomic and in-place writes, buying with and without a lock, cleanup."""
import json
import os
import threading

import pytest

import helpers
from helpers import Worker, run
from helpers.tickets import TicketStore


def test_creates_the_article_file_in_its_own_directory():
    with TicketStore(3) as store:
        assert os.path.basename(store.path) == "ticket"
        with open(store.path) as f:
            assert json.load(f) == {"count": 3}
        assert store.read() == 3 and store.initial == 3
        assert "3 left" in repr(store)
        directory = store.directory
    assert not os.path.exists(directory)
    assert not store.exists
    store.remove()  # a second removal is harmless
    assert "removed" in repr(store)


def test_given_directory_is_kept(tmp_path):
    store = TicketStore(1, directory=str(tmp_path), filename="db")
    assert store.path == str(tmp_path / "db")
    store.remove()
    assert tmp_path.exists() and not (tmp_path / "db").exists()


def test_buy_sells_until_none_left():
    with TicketStore(2) as store:
        lock = threading.Lock()
        assert [store.buy(lock), store.buy(), store.buy(lock)] == [True, True, False]
        assert store.read() == 0


def test_atomic_write_leaves_no_temporary_file():
    with TicketStore(3) as store:
        store.write(7)
        assert store.read() == 7
        assert os.listdir(store.directory) == ["ticket"]


@pytest.mark.parametrize("atomic, seen", [(False, '{"coun'), (True, '{"count": 3}')])
def test_a_reader_halfway_through_a_write(atomic, seen):
    with TicketStore(3) as store:
        seen_halfway = []

        def look():
            with open(store.path) as f:
                seen_halfway.append(f.read())

        store.write(2, atomic=atomic, halfway=look)
        assert seen_halfway == [seen]
        assert store.read() == 2


def test_a_half_written_file_raises_a_json_error():
    with TicketStore(3) as store:
        with open(store.path, "w") as f:
            f.write('{"count"')
        with pytest.raises(json.JSONDecodeError):
            store.read()
        with open(store.path, "w") as f:
            f.write('{"seats": 3}')
        with pytest.raises(ValueError, match="should hold"):
            store.read()
        assert "unreadable" in repr(store)


def test_failed_write_removes_its_temporary_file():
    with TicketStore(3) as store:
        def explode():
            raise RuntimeError("disk gone")

        with pytest.raises(RuntimeError):
            store.write(2, halfway=explode)
        assert os.listdir(store.directory) == ["ticket"]
        assert store.read() == 3


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: TicketStore(-1), ValueError, "cannot be negative"),
        (lambda: TicketStore(2.5), TypeError, "whole number"),
        (lambda: TicketStore(True), TypeError, "whole number"),
        (lambda: TicketStore(3, filename="a/b"), ValueError, "plain file name"),
        (lambda: TicketStore(3, directory=42), TypeError, "directory must be a path"),
        (lambda: TicketStore(3, directory="/no/such/dir"), ValueError, "does not exist"),
    ],
)
def test_bad_input_is_refused_with_a_sentence(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_bad_arguments_to_write_and_buy():
    with TicketStore(3) as store:
        with pytest.raises(ValueError, match="negative"):
            store.write(-2)
        with pytest.raises(TypeError, match="halfway"):
            store.write(2, halfway="now")
        with pytest.raises(TypeError, match="lock must be a Lock"):
            store.buy(lock="yes")
        with pytest.raises(TypeError, match="after_read"):
            store.buy(after_read=5)


def test_workers_copy_does_not_remove_the_store(start_method):
    with TicketStore(3) as store:
        run([Worker(store.remove, name="copy")], timeout=30)
        assert store.exists


def _buy_with_barrier(store, everyone_read):
    return store.buy(after_read=lambda: everyone_read.wait(timeout=10))


def test_forced_race_oversells_and_the_lock_prevents_it(start_method):
    with TicketStore(3) as store:
        everyone_read = helpers.Barrier(5)
        result = run([Worker(_buy_with_barrier, store, everyone_read, name=f"person{i}") for i in range(5)],
                     timeout=30, output="none")
        assert result.ok
        assert sum(result.values.values()) == 5 and store.read() == 2

    with TicketStore(3) as store:
        lock = helpers.Lock(name="ticket lock")
        result = run([Worker(store.buy, lock, name=f"person{i}") for i in range(5)], timeout=30, output="none")
        assert result.ok
        assert sum(result.values.values()) == 3 and store.read() == 0
        assert helpers.facts.mutual_exclusion(result.trace, "ticket lock")
