# suiji: `make demo` and `make test` are the whole quick start.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test lint bench serve clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/suiji demo --out demo-out

test: $(STAMP)
	$(BIN)/python -m pytest
	$(BIN)/ruff check .
	$(BIN)/mypy data sampler scheduler reports cli sample web

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy data sampler scheduler reports cli sample web

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/web.py

# The workbench on the demo's database (run `make demo` first).
serve: $(STAMP)
	@test -f demo-out/suiji.db || { echo "No demo-out/suiji.db: run 'make demo' first."; exit 1; }
	$(BIN)/suiji --db demo-out/suiji.db --rules demo-out/rules.toml serve

clean:
	rm -rf $(VENV) demo-out build *.egg-info .pytest_cache .mypy_cache .ruff_cache
