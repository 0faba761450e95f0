# Two commands for a new user: `make demo` and `make test`. Both create the virtualenv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint docs bench simulate clean report-check mutate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/eventstudy lockup 0020.HK

lint: $(STAMP)
	$(BIN)/ruff check eventstudy tests benchmarks
	$(BIN)/mypy eventstudy

test: lint
	$(BIN)/python -m pytest -q

# The documentation site (docs/, mkdocs.yml) into site/ (gitignored); a warning is an error.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# Not part of `make test`: renders the SenseTime report and screenshots it with headless Chromium
# (/usr/bin/chromium) when it is installed.
report-check: $(STAMP)
	BIN=$(BIN) bash scripts/report_check.sh

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# Not part of `make test`: injects small realistic bugs one at a time (scripts/mutate.py) and
# reports which the suite misses.
mutate: $(STAMP)
	$(BIN)/python scripts/mutate.py

clean:
	rm -rf $(VENV) reports site .pytest_cache .mypy_cache .ruff_cache
