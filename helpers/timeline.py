"""Timeline pictures: one row per worker, what it was doing at each moment of a run.

``result.timeline()`` (or ``helpers.timeline(result)``) turns a run's trace into a matplotlib
figure, so a chapter can *show* contention, hand-offs and blocked workers instead of describing
them. Every chapter uses the same colour language, so a learner reads each new picture at once:

- a light thin bar: the worker's process is running;
- a strong colour: the worker holds a Lock / Semaphore / Condition (one colour per primitive, in
  order of first use: blue, orange, purple, ...);
- a hatched pale bar: the worker is blocked (waiting in acquire(), wait(), put() or get()); the
  hatching has the colour of the lock or queue it waits for, grey for an Event or a Barrier;
- a pale labelled band: a ``helpers.phase("...")`` (a phase named after a colour, such as "red" or
  "green", is drawn in a tint of that colour); a small tick with text: a ``helpers.mark("...")``;
- markers for instants: ▲ green = Event.set(), ▼ red = Event.clear(), ● = put / send,
  ○ = get / recv, ✕ = a timeout, ◆ = Condition.notify(), ✓ = task_done();
- a bar ending in ▸ with a dashed edge was still going when the trace ended (a stuck worker).

``panel="name"`` adds a second plot below, on the same time axis: how many workers held that
primitive (with its limit as a dashed line), or how many items were inside that Queue or Pipe.

Introduced in ``00_start_here.ipynb``; used in every chapter.
"""
from __future__ import annotations

import math
from collections import defaultdict

from . import facts
from .trace import trace_and_order

# Strong colours for primitives, in order of first use. Green and red are kept for set / clear.
PALETTE = ("#1f77b4", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#393b79",
           "#637939", "#ad494a")
# Pale colours for phases, in order of first appearance of each label.
PHASE_PALETTE = ("#fdd49e", "#c7e9c0", "#c6dbef", "#dadaeb", "#fcbba1", "#d9f0a3", "#fee391", "#d4b9da")
RUNNING = "#d4d4d4"
WAITING_FACE, WAITING_EDGE = "#e3e3e3", "#7a7a7a"
INSTANTS = {  # kind -> (marker, colour, legend text)
    "set": ("^", "#2ca02c", "Event set ▲"),
    "clear": ("v", "#d62728", "Event clear ▼"),
    "timeout": ("X", "#d62728", "timed out ✕"),
    "notify": ("D", "#444444", "notify ◆"),
    "task_done": ("$✓$", "#444444", "task_done ✓"),
}
_MAX_LEGEND_PHASES = 8
_DENSE = 1500  # more points than this in one collection: rasterize it (small, fast files)


def timeline(trace, *, workers=None, panel=None, title=None, width=10.0):
    """Draw what each worker did over time; returns a matplotlib Figure (shown once in a notebook).

    ``trace``: a :class:`helpers.Trace` or a RunResult (``result.timeline()`` passes its workers in
    run order). ``workers``: names for the rows, top to bottom (any other worker in the trace, such
    as ``main`` for the notebook itself, gets a row below them). ``panel``: a primitive's name, or
    True for the first Lock/Semaphore/Queue used, to add a plot of its holders (or items inside)
    over time. ``title``: replaces the default description. ``width``: in inches.

    How to read a timeline: time runs left to right, in seconds since the run's first event; each
    row is one worker. Follow a row: a hatched bar means that worker was stuck waiting (hatched blue:
    for the blue lock; grey: for an Event or Barrier); a solid coloured bar means it held that lock,
    so two solid bars of one Lock never overlap vertically if mutual exclusion holds. Where one
    worker's solid bar ends and another's hatched bar turns solid, you are seeing a hand-off.
    Markers are instants (▲ set, ▼ clear, ● put, ○ get, ✕ timeout); ▸: still going at the end.
    """
    import matplotlib.pyplot as plt

    trace, workers = _check_arguments(trace, workers, panel, title, width)
    if not trace.events:
        raise ValueError(
            "nothing to draw: the trace has no events. Draw the result of a run "
            "(r = helpers.run([...]); r.timeline()), or trace code with "
            "`with helpers.recording() as rec: ...` and then helpers.timeline(rec.trace)."
        )
    panel_primitive = _panel_primitive(trace, panel)
    rows = list(workers) + [w for w in trace.workers if w not in workers]
    all_spans = facts.spans(trace)
    colours = _primitive_colours(trace)
    # Time 0 is the run's first event, not the moment run() was called: starting the forkserver
    # can take longer than a whole demo at COURSE_TIME_SCALE=0.05 and would squeeze the picture.
    origin = trace.events[0].t
    duration = max((trace.end - origin) / 1e9, 1e-6)

    # The size depends only on the number of rows and the panel, so `<Figure size ...>` is stable.
    row_inches = 0.5 if len(rows) <= 8 else max(0.2, 4.0 / len(rows))
    rows_height = round(max(1.3, row_inches * len(rows)), 1)
    panel_height = 1.4 if panel_primitive is not None else 0.0
    height = round(rows_height + panel_height + 1.2, 1)
    fig = plt.figure(figsize=(width, height), layout="constrained")
    if panel_primitive is not None:
        ax, ax_panel = fig.subplots(2, 1, sharex=True, height_ratios=[rows_height, panel_height])
    else:
        ax, ax_panel = fig.subplots(1, 1), None

    drawing = _Drawing(ax, trace, rows, colours, width, rows_height, origin, duration)
    drawing.spans(all_spans)
    drawing.instants()
    drawing.finish_axes()
    legend = drawing.legend_handles()
    if ax_panel is not None:
        legend += _draw_panel(ax_panel, trace, panel_primitive, colours, origin, duration)
        ax_panel.set_xlabel(drawing.xlabel)
    else:
        ax.set_xlabel(drawing.xlabel)
    if legend:
        fig.legend(handles=legend, loc="outside right upper", fontsize=8, frameon=False)
    fig.suptitle(title if title is not None else _default_title(trace, rows), fontsize=11)
    plt.close(fig)  # the notebook shows the returned figure once, not once more as "current figure"
    return fig


# ---------------------------------------------------------------------------------------------
# Arguments


def _check_arguments(trace, workers, panel, title, width):
    trace, order = trace_and_order(trace, "use r = helpers.run([...]) and then r.timeline() or helpers.timeline(r.trace)")
    if workers is None and order:
        workers = order
    if workers is None:
        workers = []
    elif isinstance(workers, str) or not isinstance(workers, (list, tuple)):
        raise TypeError(f"workers= takes a list of worker names, e.g. ['buyer 1', 'buyer 2'], not {type(workers).__name__}.")
    elif not all(isinstance(w, str) for w in workers):
        raise TypeError("workers= takes worker names (strings), e.g. ['buyer 1', 'buyer 2'].")
    workers = list(dict.fromkeys(workers))
    if panel is not None and not isinstance(panel, (str, bool)):
        raise TypeError(f"panel= takes a primitive's name (e.g. 'printer') or True, not {type(panel).__name__}.")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title= takes a string, not {type(title).__name__}.")
    if isinstance(width, bool) or not isinstance(width, (int, float)):
        raise TypeError(f"width= takes a number of inches such as 10, not {type(width).__name__}.")
    if not 3 <= width <= 60:
        raise ValueError(f"width={width} inches is not drawable: use something between 3 and 60, e.g. 10.")
    return trace, workers


def _panel_primitive(trace, panel):
    if panel is None or panel is False:
        return None
    if panel is True:
        for p in trace.used_primitives():
            if p.type in facts.LOCKLIKE or p.type in facts.CHANNELS:
                return p
        raise ValueError(
            "panel=True draws the first Lock, Semaphore, Condition, Queue or Pipe used, and this trace "
            "used none; pass panel='name' of an Event or Barrier, or leave panel out."
        )
    p = trace.primitive(panel)  # its ValueError lists the names the trace has
    if p.type not in facts.LOCKLIKE + facts.CHANNELS + ("Event", "Barrier"):
        raise ValueError(f"panel={panel!r}: a {p.type} has nothing to count over time; pick a lock, queue, event or barrier.")
    return p


def _primitive_colours(trace) -> dict:
    """Primitive id -> colour, for the ones drawn in colour (locks and channels), by first use."""
    coloured = [p for p in trace.used_primitives() if p.type in facts.LOCKLIKE or p.type in facts.CHANNELS]
    return {p.id: PALETTE[i % len(PALETTE)] for i, p in enumerate(coloured)}


def _default_title(trace, rows) -> str:
    workers = [w for w in rows if w != "main"]
    head = f"Timeline: {len(workers)} worker{'s' if len(workers) != 1 else ''}"
    if "main" in rows:
        head += " + main"
    used = [f"{p.type} {p.name!r}" for p in trace.used_primitives()]
    if len(used) > 3:
        used = used[:3] + [f"{len(used) - 3} more"]
    return head + (", " + ", ".join(used) if used else "")


def _name(trace, primitive_id) -> str:
    p = trace.primitives.get(primitive_id)
    return f"{p.type} {p.name!r}" if p else "?"


# ---------------------------------------------------------------------------------------------
# The rows


class _Drawing:
    """Draws spans and instants into the main axes and remembers what the legend needs."""

    def __init__(self, ax, trace, rows, colours, width, rows_height, origin, duration):
        self.ax, self.trace, self.rows, self.colours = ax, trace, rows, colours
        self.y = {w: i for i, w in enumerate(rows)}
        self.origin, self.duration = origin, duration
        # Data units per point of text, to decide whether a label fits before drawing it.
        self.x_per_point = duration / max(1.0, (width - 2.6) * 72)
        self.font = 7 if len(rows) <= 22 else 6
        self.labels = len(rows) <= 40 and rows_height / len(rows) >= 0.19
        self.present: dict = {}  # legend key -> handle, in order of first drawing
        self.phase_colours: dict = {}
        scale = _time_scale()
        self.xlabel = "seconds since the run's first event"
        if scale != 1.0:
            self.xlabel += f" (COURSE_TIME_SCALE={scale:g}: every sleep is {scale:g}× the article's)"

    def seconds(self, t: int) -> float:
        return (t - self.origin) / 1e9

    # -- spans

    def spans(self, spans) -> None:
        groups = defaultdict(list)  # style key -> [(x0, width, y0, height)]
        self.grey_waits = [s for s in spans if s.kind == "waiting" and s.primitive not in self.colours
                           and (s.end > s.start or s.open)]
        open_ends = []
        by_worker = defaultdict(list)
        for s in spans:
            if s.worker in self.y:
                by_worker[s.worker].append(s)
        for worker, mine in by_worker.items():
            y = self.y[worker]
            depth = _nesting(s for s in mine if s.kind == "holding")
            for s in mine:
                x0, x1 = self.seconds(s.start), self.seconds(s.end)
                if s.kind == "running":
                    key, h = ("running",), 0.14
                elif s.kind == "waiting":
                    if s.end == s.start and not s.open:
                        continue  # an uncontended acquire: asked and got at once
                    # Hatched in the colour of the lock or queue waited for; grey for events, barriers.
                    key, h = ("waiting", s.primitive if s.primitive in self.colours else None), 0.4
                elif s.kind == "holding":
                    key, h = ("holding", s.primitive), max(0.22, 0.6 - 0.14 * depth[id(s)])
                else:
                    key, h = ("phase", s.label), 0.88
                    if s.label not in self.phase_colours:
                        self.phase_colours[s.label] = _phase_colour(s.label, len(self.phase_colours))
                w = x1 - x0
                if s.kind == "holding":
                    w = max(w, self.x_per_point)  # a hold of a few µs stays visible in a long run
                groups[key].append((x0, w, y - h / 2, h))
                if s.open and s.kind != "running":
                    open_ends.append((x0, x1, y, h, key))
                if s.kind == "phase":
                    self._phase_label(s.label, x0, x1, y)
        order = {"phase": 0, "running": 1, "holding": 2, "waiting": 3}
        for key in sorted(groups, key=lambda k: order[k[0]]):
            rects = groups[key]
            if key[0] == "waiting":
                # Waits too short to see would draw only their hatch edges, which look like marks.
                visible = 3 * self.x_per_point
                self._bars(key, [r for r in rects if r[1] >= visible])
                self._bars(("waiting", "short", key[1]), [r for r in rects if r[1] < visible])
            else:
                self._bars(key, rects)
        for x0, x1, y, h, key in open_ends:
            self._open_end(x0, x1, y, h, key)

    def _bars(self, key, rects) -> None:
        from matplotlib.collections import PolyCollection
        from matplotlib.patches import Patch

        kind = key[0]
        if not rects:
            return
        if key[:2] == ("waiting", "short"):
            style = dict(facecolor="#b5b5b5", edgecolor="none", zorder=4)
            label = None
        elif kind == "running":
            style = dict(facecolor=RUNNING, edgecolor="none", zorder=1)
            label = "running"
        elif kind == "waiting":
            style = dict(facecolor=WAITING_FACE, edgecolor=self.colours.get(key[1], WAITING_EDGE), hatch="////",
                         linewidth=0.6, zorder=4)
            if key[1] is not None:
                label = f"waiting for {_name(self.trace, key[1])}"
            else:
                grey = sorted({_name(self.trace, s.primitive) for s in self.grey_waits})
                label = f"waiting for {' or '.join(grey)}" if 0 < len(grey) <= 2 else "waiting (blocked)"
        elif kind == "holding":
            style = dict(facecolor=self.colours.get(key[1], "#333333"), edgecolor="white", linewidth=0.4, zorder=3)
            label = f"holding {_name(self.trace, key[1])}"
        else:
            colour = self.phase_colours[key[1]]
            style = dict(facecolor=colour, edgecolor=_darker(colour), linewidth=0.6, alpha=0.75, zorder=0.5)
            label = f"phase {key[1]!r}"
        # The broken_barh idiom, one collection per style so thousands of bars stay fast.
        verts = [[(x, y), (x, y + h), (x + w, y + h), (x + w, y)] for x, w, y, h in rects]
        collection = PolyCollection(verts, **style)
        collection.set_rasterized(len(verts) > _DENSE)
        self.ax.add_collection(collection)
        if label is None:
            return
        if kind != "phase" or sum(1 for k in self.present if k[0] == "phase") < _MAX_LEGEND_PHASES:
            self.present[key] = Patch(label=label, **{k: v for k, v in style.items() if k != "zorder"})

    def _open_end(self, x0, x1, y, h, key) -> None:
        from matplotlib.lines import Line2D
        from matplotlib.patches import Rectangle

        colour = "#555555" if key[0] in ("waiting", "phase") else self.colours.get(key[1], "#333333")
        self.ax.add_patch(Rectangle((x0, y - h / 2), x1 - x0, h, fill=False, edgecolor="#222222",
                                    linestyle=(0, (2, 1.5)), linewidth=0.9, zorder=5))
        self.ax.plot([x1], [y], marker=">", markersize=6, color=colour, markeredgecolor="#222222",
                     linestyle="none", zorder=6, clip_on=False)
        self.present.setdefault(("open",), Line2D([], [], marker=">", color="#555555", linestyle="none",
                                                   label="still going at the end ▸"))

    def _phase_label(self, label, x0, x1, y) -> None:
        if not self.labels or len(label) * self.font * 0.6 * self.x_per_point > (x1 - x0) * 0.95:
            return
        self._text((x0 + x1) / 2, y, label, ha="center", va="center", zorder=7)

    def _text(self, x, y, text, **kwargs):
        from matplotlib import patheffects

        # A white halo keeps the text readable over any bar.
        return self.ax.text(x, y, text, fontsize=self.font, color="#222222", clip_on=True,
                            path_effects=[patheffects.withStroke(linewidth=2.2, foreground="white")], **kwargs)

    # -- instants

    def instants(self) -> None:
        from matplotlib.lines import Line2D

        points = defaultdict(list)  # style key -> [(x, y)]
        marks = defaultdict(list)  # worker -> [(x, text)]
        for e in self.trace.events:
            if e.worker not in self.y:
                continue
            x, y = self.seconds(e.t), self.y[e.worker]
            kind = e.kind
            if kind in ("put_fail", "get_fail") or (kind == "woke" and e.detail == 0):
                kind = "timeout"
            if kind in INSTANTS:
                points[(kind,)].append((x, y))
            elif kind in ("put", "get"):
                points[(kind, e.primitive)].append((x, y))
            elif kind == "mark":
                marks[e.worker].append((x, str(e.detail)))
        for key, xy in points.items():
            xs, ys = [p[0] for p in xy], [p[1] for p in xy]
            if key[0] in ("put", "get"):
                colour = self.colours.get(key[1], "#333333")
                face = colour if key[0] == "put" else "white"
                size = 4.5 if len(xs) < 400 else 3
                verb = ("sent on" if key[0] == "put" else "received on") if _is_pipe(self.trace, key[1]) else \
                       ("put on" if key[0] == "put" else "got from")
                label = f"{verb} {_name(self.trace, key[1])} {'●' if key[0] == 'put' else '○'}"
                style = dict(marker="o", markersize=size, markerfacecolor=face, markeredgecolor=colour,
                             markeredgewidth=0.9, color=colour)
            else:
                marker, colour, label = INSTANTS[key[0]]
                style = dict(marker=marker, markersize=7 if key[0] != "task_done" else 8, color=colour,
                             markeredgecolor="white" if key[0] != "task_done" else colour, markeredgewidth=0.5)
            line = self.ax.plot(xs, ys, linestyle="none", zorder=6, clip_on=False, **style)[0]
            line.set_rasterized(len(xs) > _DENSE)
            self.present[key] = Line2D([], [], linestyle="none", label=label, **style)
        self._marks(marks)

    def _marks(self, marks) -> None:
        from matplotlib.collections import LineCollection
        from matplotlib.lines import Line2D

        segments = []
        for worker, items in marks.items():
            y = self.y[worker]
            free_from = -math.inf  # where the previous label in this row ends
            for x, text in sorted(items):
                segments.append([(x, y - 0.44), (x, y + 0.44)])
                if not self.labels:
                    continue
                room = (len(text) * self.font * 0.6 + 3) * self.x_per_point
                if x + room <= self.duration * 1.02 and x >= free_from:
                    self._text(x + 2 * self.x_per_point, y - 0.26, text, ha="left", va="center", zorder=7)
                    free_from = x + room
                elif x - room >= max(free_from, 0):  # no room on the right (the end of the run): go left
                    self._text(x - 2 * self.x_per_point, y - 0.26, text, ha="right", va="center", zorder=7)
                    free_from = x
        if segments:
            ticks = LineCollection(segments, colors="#222222", linewidths=1.1, zorder=6)
            ticks.set_rasterized(len(segments) > _DENSE)
            self.ax.add_collection(ticks)
            self.present[("mark",)] = Line2D([], [], marker="|", markersize=9, color="#222222",
                                             linestyle="none", label="mark (text)")

    # -- axes and legend

    def finish_axes(self) -> None:
        ax = self.ax
        ax.set_xlim(0, self.duration * 1.02)
        ax.set_ylim(len(self.rows) - 0.5, -0.5)  # first worker at the top
        ax.set_yticks(range(len(self.rows)))
        ax.set_yticklabels(self.rows, fontsize=8 if len(self.rows) <= 22 else 6)
        for y in range(len(self.rows)):
            if y % 2:
                ax.axhspan(y - 0.5, y + 0.5, color="#f4f4f4", zorder=-1, linewidth=0)
        ax.grid(axis="x", color="#e0e0e0", linewidth=0.6, zorder=-0.5)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)

    def legend_handles(self) -> list:
        # Each primitive's entries together (holding blue, waiting for blue, put on orange, ...).
        order = {"running": 0, "holding": 1, "waiting": 1, "put": 1, "get": 1, "open": 3, "set": 4, "clear": 5,
                 "notify": 6, "task_done": 7, "timeout": 8, "mark": 9, "phase": 10}
        within = {"holding": 0, "waiting": 1, "put": 2, "get": 3}
        rank = {pid: i for i, pid in enumerate(self.colours)}

        def position(key):
            if order[key[0]] == 1:
                coloured = key[1] in rank
                return (1, 0 if coloured else 1, rank.get(key[1], 0), within[key[0]])
            return (order[key[0]],)

        return [self.present[k] for k in sorted(self.present, key=position)]


def _nesting(holds) -> dict:
    """id(span) -> how many other holds of the same worker were already going when it started."""
    depth, active = {}, []
    for s in sorted(holds, key=lambda s: (s.start, -s.end)):
        active = [end for end in active if end > s.start]
        depth[id(s)] = len(active)
        active.append(s.end)
    return depth


def _is_pipe(trace, primitive_id) -> bool:
    p = trace.primitives.get(primitive_id)
    return p is not None and p.type == "Pipe"


def _phase_colour(label: str, index: int) -> str:
    """A phase named after a colour ("red", "green", "yellow") is drawn in a pale tint of it."""
    from matplotlib import colors

    if label.isalpha() and label.lower() in colors.CSS4_COLORS:
        r, g, b = colors.to_rgb(label.lower())
        return colors.to_hex((0.55 + 0.45 * r, 0.55 + 0.45 * g, 0.55 + 0.45 * b))
    return PHASE_PALETTE[index % len(PHASE_PALETTE)]


def _darker(colour: str) -> str:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(int(c * 0.7) for c in (r, g, b)))


def _time_scale() -> float:
    try:
        from .settings import time_scale

        return time_scale()
    except ValueError:
        return 1.0


# ---------------------------------------------------------------------------------------------
# The panel


def _draw_panel(ax, trace, p, colours, origin, duration) -> list:
    """Holders (lock-like), items inside (channels), set or not (Event), waiting (Barrier)."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    colour = colours.get(p.id, "#2ca02c" if p.type == "Event" else "#444444")  # Event: the green of ▲ set
    if p.type in facts.LOCKLIKE:
        steps, what = facts.holders_over_time(trace, p), "holders"
    elif p.type in facts.CHANNELS:
        # A get can be recorded a hair before the put that fed it (two processes, two clock reads):
        # never show a learner "-1 items". 
        # The same two clock reads can also show a full queue one item over its maxsize for an instant.
        ceiling = p.limit or math.inf
        steps = [(t, min(ceiling, max(0, n))) for t, n in facts.queue_length_over_time(trace, p)]
        what = "items sent, not yet received" if p.type == "Pipe" else "items inside"
    elif p.type == "Event":
        steps, state = [], 0
        for e in trace.of(p, kinds=("set", "clear")):
            state = 1 if e.kind == "set" else 0
            steps.append((e.t, state))
        what = "is set (1) or not (0)"
    else:  # Barrier
        steps, waiting = [], 0
        for e in trace.of(p, kinds=("wait", "woke")):
            waiting = waiting + 1 if e.kind == "wait" else max(0, waiting - 1)
            steps.append((e.t, waiting))
        what = "workers waiting"
    xs = [0.0] + [(t - origin) / 1e9 for t, _ in steps] + [duration]
    ys = [0] + [n for _, n in steps]
    ys.append(ys[-1])
    ax.fill_between(xs, ys, step="post", color=colour, alpha=0.25, linewidth=0)
    line = ax.step(xs, ys, where="post", color=colour, linewidth=1.4, label=f"{_name(trace, p.id)}: {what}")[0]
    line.set_gid("panel-count")
    line.set_rasterized(len(xs) > _DENSE)
    handles = [Line2D([], [], color=colour, linewidth=1.4, label=f"panel: {what}")]
    limit = p.limit
    top = max(ys + [limit or 0, 1])
    if limit and p.type != "Event":
        ax.axhline(limit, color="#d62728", linestyle="--", linewidth=1.1, gid="panel-limit")
        handles.append(Line2D([], [], color="#d62728", linestyle="--", label=f"panel: limit ({limit})"))
    ax.set_ylim(0, top * 1.15 + 0.1)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
    ax.set_ylabel(what if len(what) < 14 else what.split(",")[0].replace(" (1) or not (0)", ""), fontsize=8)
    ax.set_title(f"{_name(trace, p.id)}: {what} over time", fontsize=9, loc="left")
    ax.grid(axis="both", color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return handles
