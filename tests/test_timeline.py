"""Timeline pictures: rows, legend, panel and limits agree with the trace; big runs draw fast; notebooks show it once."""
import time

import pytest

import helpers
from helpers import Worker, facts
from helpers.timeline import timeline
from helpers.trace import Trace

# matplotlib and nbclient are imported inside the tests that need them: every worker process
# imports this module to find its function, and 50 of them importing matplotlib is slow.


def printer(lock, lines, start_line):
    start_line.wait(timeout=10)  # all three ask for the lock at once, so two of them must wait
    for i in range(lines):
        helpers.sleep(0.02)
        with lock:
            with helpers.phase("printing"):
                helpers.sleep(0.05)
    helpers.mark("done")


def singer(rooms, door):
    door.wait(timeout=10)  # all four arrive together, so two of them must wait for a room
    with rooms:
        with helpers.phase("singing"):
            helpers.sleep_random(0.1, 0.3)


def cook(plates, n):
    for i in range(n):
        helpers.sleep(0.01)
        plates.put(i, timeout=10)
    plates.put(None, timeout=10)


def eater(plates):
    while plates.get(timeout=10) is not None:
        helpers.sleep(0.03)


def waits_forever(ready, never):
    ready.set()
    never.wait(timeout=30)  # the test stops it long before


def busy(lock, rounds):
    for _ in range(rounds):
        with lock:
            pass


@pytest.fixture(scope="module")
def lock_run():
    lock, start_line = helpers.Lock(name="printer"), helpers.Barrier(3, name="start line")
    result = helpers.run([Worker(printer, lock, 3, start_line, name=f"worker {i}") for i in (1, 2, 3)],
                         timeout=30, output="none")
    assert result.ok
    return result


@pytest.fixture(scope="module")
def semaphore_run():
    rooms, door = helpers.Semaphore(2, name="rooms"), helpers.Barrier(4, name="door")
    result = helpers.run([Worker(singer, rooms, door, name=f"group {i}") for i in (1, 2, 3, 4)],
                         timeout=30, output="none")
    assert result.ok
    return result


@pytest.fixture(scope="module")
def queue_run():
    plates = helpers.Queue(3, name="plates")
    result = helpers.run([Worker(cook, plates, 15, name="cook"), Worker(eater, plates, name="eater")],
                         timeout=30, output="none")
    assert result.ok
    return result


def rows(fig):
    return [t.get_text() for t in fig.axes[0].get_yticklabels()]


def legend_texts(fig):
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def panel_line(fig):
    [line] = [line for line in fig.axes[1].get_lines() if line.get_gid() == "panel-count"]
    return line


def test_one_row_per_worker_in_run_order(lock_run):
    fig = lock_run.timeline()
    assert len(fig.axes) == 1
    assert rows(fig) == ["worker 1", "worker 2", "worker 3"]
    assert helpers.timeline(lock_run).get_size_inches().tolist() == fig.get_size_inches().tolist()


def test_draws_runs_from_every_start_method(start_method):
    lock, start_line = helpers.Lock(name="printer"), helpers.Barrier(2, name="start line")
    result = helpers.run([Worker(printer, lock, 1, start_line, name=f"worker {i}") for i in (1, 2)],
                         timeout=60, output="none")
    assert result.ok and result.start_method == start_method
    fig = result.timeline(panel="printer")
    assert rows(fig) == ["worker 1", "worker 2"]
    assert max(panel_line(fig).get_ydata()) == 1


def test_workers_argument_orders_rows_and_other_workers_follow(lock_run):
    fig = timeline(lock_run.trace, workers=["worker 3", "worker 1"])
    assert rows(fig) == ["worker 3", "worker 1", "worker 2"]


def test_legend_lists_the_kinds_present(lock_run):
    texts = legend_texts(lock_run.timeline())
    for expected in ("running", "waiting for Lock 'printer'", "holding Lock 'printer'", "phase 'printing'", "mark (text)"):
        assert expected in texts
    assert not any("Event" in t or "put on" in t or "panel" in t for t in texts)


def test_time_axis_starts_at_zero_and_covers_the_run(lock_run):
    fig = lock_run.timeline()
    left, right = fig.axes[0].get_xlim()
    assert left == 0 and right >= (lock_run.trace.end - lock_run.trace.events[0].t) / 1e9


def test_default_title_names_workers_and_primitives(lock_run):
    assert lock_run.timeline()._suptitle.get_text() == "Timeline: 3 workers, Barrier 'start line', Lock 'printer'"
    assert lock_run.timeline(title="Three printers")._suptitle.get_text() == "Three printers"


def test_figure_size_depends_only_on_rows_and_panel(lock_run, semaphore_run):
    assert str(lock_run.timeline()) == str(lock_run.timeline()) == "Figure(1000x270)"
    assert str(lock_run.timeline(panel="printer")) == "Figure(1000x410)"
    assert str(semaphore_run.timeline()) == "Figure(1000x320)"


def test_figure_is_closed_so_a_notebook_shows_it_once(lock_run):
    import matplotlib.pyplot as plt

    fig = lock_run.timeline()
    assert fig.number not in plt.get_fignums()


def test_savefig_png_with_agg(lock_run, tmp_path):
    path = tmp_path / "timeline.png"
    lock_run.timeline(panel=True).savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_panel_shows_holders_up_to_the_limit(semaphore_run):
    fig = semaphore_run.timeline(panel="rooms")
    assert len(fig.axes) == 2
    assert fig.axes[1].get_shared_x_axes().joined(fig.axes[0], fig.axes[1])
    assert max(panel_line(fig).get_ydata()) == facts.max_holders(semaphore_run.trace, "rooms") == 2
    [limit] = [line for line in fig.axes[1].get_lines() if line.get_gid() == "panel-limit"]
    assert list(limit.get_ydata()) == [2, 2]
    assert "panel: limit (2)" in legend_texts(fig)


def test_panel_true_is_the_first_lock_or_queue(lock_run, queue_run):
    assert max(panel_line(lock_run.timeline(panel=True)).get_ydata()) == 1
    fig = queue_run.timeline(panel=True)
    assert fig.axes[1].get_title(loc="left") == "Queue 'plates': items inside over time"
    counts = panel_line(fig).get_ydata()
    assert 1 <= max(counts) <= 3 and min(counts) >= 0


def test_queue_instants_are_in_the_legend(queue_run):
    texts = legend_texts(queue_run.timeline())
    assert "put on Queue 'plates' ●" in texts and "got from Queue 'plates' ○" in texts


def test_unknown_panel_name_lists_the_known_ones(lock_run):
    with pytest.raises(ValueError, match="no primitive named 'no such lock'.*'printer'"):
        lock_run.timeline(panel="no such lock")


def test_stuck_worker_is_drawn_with_an_open_end():
    ready, never = helpers.Event(name="ready"), helpers.Event(name="never")
    with helpers.start([Worker(waits_forever, ready, never, name="waiter")], output="none") as running:
        assert ready.wait(timeout=30)
        time.sleep(0.05)
        result = running.stop()
    assert result["waiter"].status == "stopped"
    fig = result.timeline(panel="never")
    assert "still going at the end ▸" in legend_texts(fig)
    assert any(t.startswith("waiting for") and "Event 'never'" in t for t in legend_texts(fig))
    assert max(panel_line(fig).get_ydata()) == 0  # never set


def test_empty_trace_says_what_to_do():
    with pytest.raises(ValueError, match="nothing to draw.*helpers.run"):
        timeline(Trace([], {}, [], 0, 1))


@pytest.mark.parametrize("call", [
    lambda r: timeline("not a trace"),
    lambda r: timeline(r.trace, workers="worker 1"),
    lambda r: timeline(r.trace, workers=[1, 2]),
    lambda r: timeline(r.trace, panel=3),
    lambda r: timeline(r.trace, title=5),
    lambda r: timeline(r.trace, width="wide"),
])
def test_wrong_argument_types_raise_type_error(lock_run, call):
    with pytest.raises(TypeError):
        call(lock_run)


def test_fifty_workers_and_thousands_of_events_draw_fast(tmp_path):
    lock = helpers.Lock(name="busy")
    result = helpers.run([Worker(busy, lock, 34, name=f"w{i:02d}") for i in range(50)], timeout=120, output="none")
    assert result.ok
    assert len(result.trace.events) >= 5000
    began = time.perf_counter()
    fig = result.timeline(panel="busy")
    fig.savefig(tmp_path / "big.png")
    assert time.perf_counter() - began < 10
    assert len(rows(fig)) == 50
    assert max(panel_line(fig).get_ydata()) == facts.max_holders(result.trace, "busy") == 1


NOTEBOOK = [
    "import helpers",
    "def work(lock):\n    with lock:\n        helpers.sleep(0.1)",
    "lock = helpers.Lock(name='printer')\nr = helpers.run([helpers.Worker(work, lock, name=f'w{i}') for i in (1, 2)])",
    "r.timeline()",
]


def test_notebook_cell_ending_with_timeline_shows_one_png(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel must choose its inline backend, as in JupyterLab
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in NOTEBOOK])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[-1].outputs
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) == 1
    assert pngs[0]["data"]["text/plain"].startswith("<Figure size 1000x250 with 1 Axes>")


def test_phases_named_after_colours_are_drawn_in_them():
    from helpers.timeline import _phase_colour, PHASE_PALETTE
    from matplotlib import colors

    red, green = colors.to_rgb(_phase_colour("red", 0)), colors.to_rgb(_phase_colour("green", 1))
    assert red[0] > red[1] and red[0] > red[2]
    assert green[1] > green[0] and green[1] > green[2]
    assert _phase_colour("singing", 2) == PHASE_PALETTE[2]
