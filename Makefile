# The two commands of the README. Both create .venv on first use.
#   make build   set up .venv and run `dbt build` on the embedded demo data
#   make test    everything that guards the project: dbt build (data + unit tests), lint
#                (ruff; sqlfluff compiles against the built database, since some models read
#                their columns from it), dbt docs generate, and pytest
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SEGMENTS_DB_PATH ?= $(CURDIR)/segments.duckdb
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_PROJECT_DIR := $(CURDIR)

.PHONY: build test lint dbt-build docs pytest seeds clean report report-screenshot semantic

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

build: $(STAMP)
	$(BIN)/dbt build

# Optional semantic layer (docs/semantic_layer.md): installs the MetricFlow CLI next to the pinned
# requirements (which it must not change) and answers one query on the built database.
SEMANTIC_STAMP := $(VENV)/.semantic-installed
$(SEMANTIC_STAMP): $(STAMP) requirements-semantic.txt
	$(BIN)/python -m pip install --quiet -r requirements-semantic.txt
	touch $(SEMANTIC_STAMP)

semantic: $(SEMANTIC_STAMP)
	test -f $(SEGMENTS_DB_PATH) || $(BIN)/dbt build
	$(BIN)/dbt parse --quiet
	$(BIN)/mf query --metrics customers,average_predicted_clv,churn_risk_share \
		--group-by customer__segment_name

test: $(STAMP)
	$(MAKE) dbt-build
	$(MAKE) lint
	$(MAKE) docs
	$(MAKE) pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint models macros tests analyses

dbt-build: $(STAMP)
	$(BIN)/dbt build

docs: $(STAMP)
	$(BIN)/dbt docs generate

# pytest-xdist: PYTEST_WORKERS processes (default 2, the CI's cores); --dist loadscope keeps each
# module on one worker, so a module's dbt builds (module fixtures) run once.
PYTEST_WORKERS ?= 2
pytest: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadscope

# The HTML report of the published database (docs/report.md); REPORT_ARGS passes options,
# e.g. make report REPORT_ARGS="--published other/published/segments/segments.duckdb --out x.html".
report: $(STAMP)
	$(BIN)/python -m segmentation.report $(REPORT_ARGS)

# The README's screenshot: the top of the demo report in headless Chromium (Debian package
# chromium). Run after `make build`.
report-screenshot: $(STAMP)
	$(BIN)/python -m segmentation.report --out report/segments_report.html
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --no-first-run --user-data-dir=$$(mktemp -d) \
		--hide-scrollbars --window-size=1280,1900 --virtual-time-budget=15000 \
		--screenshot=$(CURDIR)/docs/report.png file://$(CURDIR)/report/segments_report.html

# Regenerate the committed demo seeds (a pytest checks they are reproduced byte for byte).
seeds: $(STAMP)
	$(BIN)/python -m segmentation.demo --out seeds/demo

clean:
	rm -rf target logs segments.duckdb segments.duckdb.wal
