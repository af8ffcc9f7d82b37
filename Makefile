# The course's commands. `make lab` opens the course, `make test` runs everything CI runs.
# Both create .venv (with python3, 3.10 or newer) and install requirements.txt when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
METHODS := forkserver spawn fork
# Demos sleep COURSE_TIME_SCALE times the article's timings: real time for a class, fast for CI.
TEST_TIME_SCALE := 0.05
NBVAL := $(BIN)/python -m pytest --nbval notebooks --nbval-current-env \
	--nbval-sanitize-with tests/sanitize.cfg --nbval-cell-timeout=300 -p no:cacheprovider -q

.PHONY: lab test unit nbval check-notebooks notebooks bench clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# Jupyter refuses to start as root unless told; containers often run as root.
LAB_FLAGS := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_FLAGS) notebooks/00_start_here.ipynb

test: unit nbval check-notebooks

unit: $(STAMP)
	COURSE_TIME_SCALE=$(TEST_TIME_SCALE) $(BIN)/python -m pytest tests --durations=10

# Every notebook, strictly compared with its committed outputs, under every start method.
nbval: $(STAMP)
	@for method in $(METHODS); do \
		echo "== nbval with COURSE_START_METHOD=$$method"; \
		COURSE_START_METHOD=$$method COURSE_TIME_SCALE=$(TEST_TIME_SCALE) $(NBVAL) || exit 1; \
	done

check-notebooks: $(STAMP)
	$(BIN)/python tools/nbtool.py check

# Re-execute every notebook (or NB=notebooks/02_lock.ipynb) and save cleaned outputs.
notebooks: $(STAMP)
	COURSE_TIME_SCALE=$(TEST_TIME_SCALE) $(BIN)/python tools/nbtool.py execute $(NB)

bench: $(STAMP)
	$(BIN)/python -m helpers.bench

clean:
	rm -rf $(VENV) *.egg-info
