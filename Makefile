# Two commands from a fresh clone: `make run` and `make test` (each builds .venv first if missing).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check demo bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The machine's pip (23.x) cannot resolve lxml[html-clean] extras; upgrade inside the venv first.
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	@$(BIN)/newsbot run

test: $(STAMP)
	$(BIN)/python -m pytest -q

check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	@$(BIN)/newsbot demo

# The quick benchmarks; `newsbot bench query` and `newsbot bench digest` take minutes each.
bench: $(STAMP)
	$(BIN)/newsbot bench parse
	$(BIN)/newsbot bench speakers

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
