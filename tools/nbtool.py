"""Execute, clean and check the course notebooks (``make notebooks`` / ``make check-notebooks``).

    python tools/nbtool.py execute [NOTEBOOK ...]   run top to bottom, save outputs, clean
    python tools/nbtool.py clean   [NOTEBOOK ...]   clean only
    python tools/nbtool.py check   [NOTEBOOK ...]   fail if cleaning would change a committed notebook

Cleaning keeps outputs (they are the regression baseline nbval compares) and removes what would
make diffs noisy: execution timings, widget state, kernel versions. Cells tagged ``solution`` get
``metadata.jupyter.source_hidden`` so JupyterLab shows them collapsed; CI still executes them.
With no NOTEBOOK, every ``notebooks/*.ipynb``.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
KEEP_CELL_METADATA = ("tags", "jupyter")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def notebooks(args) -> list:
    return [Path(a) for a in args] or sorted((ROOT / "notebooks").glob("*.ipynb"))


def clean(nb) -> None:
    nb.metadata = {
        "kernelspec": KERNELSPEC,
        "language_info": {"name": "python"},
    }
    for cell in nb.cells:
        meta = {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA}
        tags = meta.get("tags", [])
        if "solution" in tags:
            meta["jupyter"] = {"source_hidden": True}
        elif "jupyter" in meta:
            meta["jupyter"].pop("source_hidden", None)
            if not meta["jupyter"]:
                del meta["jupyter"]
        if not tags:
            meta.pop("tags", None)
        cell.metadata = meta
        cell.pop("id", None)
        if cell.cell_type == "code":
            for output in cell.outputs:
                output.get("metadata", {}).pop("execution", None)
    nb.nbformat, nb.nbformat_minor = 4, 4


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    env_before = dict(os.environ)
    os.environ.setdefault("COURSE_TIME_SCALE", "0.05")
    try:
        client = NotebookClient(
            nb, timeout=600, kernel_name="python3", record_timing=False,
            resources={"metadata": {"path": str(path.parent)}},
        )
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    clean(nb)
    nbformat.write(nb, path)


def text(nb) -> str:
    return nbformat.writes(nb)


def main(argv) -> int:
    if not argv or argv[0] not in ("execute", "clean", "check"):
        print(__doc__)
        return 2
    command, paths = argv[0], notebooks(argv[1:])
    failed = []
    for path in paths:
        if command == "execute":
            print(f"executing {path.name}", flush=True)
            execute(path)
        else:
            nb = nbformat.read(path, as_version=4)
            before = path.read_text(encoding="utf-8")
            clean(nb)
            after = text(nb)
            if command == "clean":
                path.write_text(after, encoding="utf-8")
            elif before.rstrip("\n") != after.rstrip("\n"):
                failed.append(path.name)
    if failed:
        print("not clean (run `make notebooks` or `python tools/nbtool.py clean`): " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
