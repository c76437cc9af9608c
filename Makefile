PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test check lint bench demo clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,ocr]'
	touch $(STAMP)

# Tests run on every core (pytest-xdist), a test file to a worker: a file's tests keep their
# order and share their module fixtures. WORKERS=1 runs them in this process.
WORKERS ?= auto
XDIST = $(if $(filter 1,$(WORKERS)),,-n $(WORKERS) --dist loadfile)
# Keep compiled bytecode even where the environment says not to write it: each worker would
# otherwise rewrite the asserts of every test module (5 s of a run) and every CLI subprocess
# compile the package again.
PYTEST = PYTHONDONTWRITEBYTECODE= $(BIN)/pytest

# Everything (CI runs this, with DUNNING_REQUIRE_TOOLS=1).
test: $(STAMP)
	$(PYTEST) -q $(XDIST)

# The fast set a developer runs often: no OCR, LibreOffice, browser or slow tests, and
# Hypothesis at a tenth of its examples (profile `dev`). Target: under 90 s on 2 cores.
check: $(STAMP)
	$(PYTEST) -q $(XDIST) -m "not (slow or ocr or soffice or browser)" --hypothesis-profile=dev

lint: $(STAMP)
	$(BIN)/ruff check dunning tests benchmarks
	$(BIN)/ruff format --check dunning tests benchmarks
	$(BIN)/mypy dunning

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

demo: $(STAMP)
	$(BIN)/dunning demo --replace

clean:
	rm -rf $(VENV) demo-desk .pytest_cache .mypy_cache .ruff_cache
