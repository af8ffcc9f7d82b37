"""A worker defined in a notebook cell, using a global and a cell-imported module, on every start method."""
import nbformat
from nbclient import NotebookClient

CELLS = [
    "import helpers\nimport json\nGREETING = 'hello'",
    "def work(n):\n    print(GREETING, n, json.dumps({'n': n}))\n    if n == 2:\n        raise ValueError(f'no ticket for {n}')\n    return n",
    "result = helpers.run([helpers.Worker(work, i, name=f'buyer {i}') for i in range(3)], output='by_worker')\nprint(result.values)",
]


def outputs_of_cell(start_method, tmp_path, cells=CELLS):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb.cells[-1].outputs


LAMBDA_AND_CLASS = [
    "import helpers\nimport math",
    "class Oven:\n    def __init__(self, heat):\n        self.heat = heat\n    def bake(self, n):\n        return f'{n} baozi at {self.heat}'",
    "half = lambda x: math.floor(x / 2)",
    "result = helpers.run([helpers.Worker(half, 9, name='lambda'), helpers.Worker(Oven(200).bake, 3, name='method')], output='by_worker')\nprint(result.values)",
]


def stream(outputs, name):
    return "".join(o.get("text", "") for o in outputs if o.output_type == "stream" and o.name == name)


def test_cell_defined_worker_prints_and_fails_in_its_cell(start_method, tmp_path):
    outputs = outputs_of_cell(start_method, tmp_path)
    out, err = stream(outputs, "stdout"), stream(outputs, "stderr")
    assert out.splitlines() == [
        'buyer 0: hello 0 {"n": 0}',
        'buyer 1: hello 1 {"n": 1}',
        'buyer 2: hello 2 {"n": 2}',
        "{'buyer 0': 0, 'buyer 1': 1, 'buyer 2': None}",
    ]
    assert err.strip() == "buyer 2: ValueError: no ticket for 2"


def test_lambda_and_class_defined_in_cells(start_method, tmp_path):
    outputs = outputs_of_cell(start_method, tmp_path, LAMBDA_AND_CLASS)
    assert stream(outputs, "stdout").strip() == "{'lambda': 4, 'method': '3 baozi at 200'}"
    assert stream(outputs, "stderr") == ""
