# Two commands for a new user: `make demo` and `make test`. Both create the virtualenv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-random lint docs bench simulate clean report-check bundle mutate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip uninstall --quiet --yes eventstudy  # this venv's editable install before the rename to eventstudy-ipo
	$(BIN)/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/eventstudy lockup 0020.HK

lint: $(STAMP)
	$(BIN)/ruff check eventstudy tests benchmarks
	$(BIN)/mypy eventstudy

test: lint
	$(BIN)/python -m pytest -q

# The suite in a random order (every test across modules); the seed is printed: rerun one order
# with `make test-random SEED=<seed>`.
ifndef SEED
SEED := $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
endif
test-random: lint
	@echo "random order seed: $(SEED) (make test-random SEED=$(SEED) repeats this order)"
	$(BIN)/python -m pytest -q --random-order-bucket=global --random-order-seed=$(SEED)

# The documentation site (docs/, mkdocs.yml) into site/ (gitignored); a warning is an error.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# Not part of `make test`: renders the SenseTime report and screenshots it with headless Chromium
# (/usr/bin/chromium) when it is installed.
report-check: $(STAMP)
	BIN=$(BIN) bash scripts/report_check.sh

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# The package ships copies of configs/ and of the data the program reads (eventstudy/_bundled/, read
# with importlib.resources) so that an installed wheel works offline from any folder. configs/ and
# data/ are the source: after editing them run `make bundle` and commit both
# (tests/test_packaging.py fails while the copies differ). The other data/ folders are test fixtures.
BUNDLED := eventstudy/_bundled
BUNDLED_DATA := data/PROVENANCE.md data/prices data/panel
bundle:
	rm -rf $(BUNDLED)/configs $(BUNDLED)/data
	mkdir -p $(BUNDLED)/data
	cp -R configs $(BUNDLED)/
	cp -R $(BUNDLED_DATA) $(BUNDLED)/data/

# Not part of `make test`: injects small realistic bugs one at a time (scripts/mutate.py) and
# reports which the suite misses.
mutate: $(STAMP)
	$(BIN)/python scripts/mutate.py

clean:
	rm -rf $(VENV) reports site .pytest_cache .mypy_cache .ruff_cache
