# powerhall: `make run` sets everything up and runs the demo; `make test` runs every test.
# Both work on a fresh clone: they create .venv and install what they need first.

PYTHON    ?= python3
VENV      ?= .venv
BIN       := $(VENV)/bin
DATA      ?= data
CUSTOMERS ?= 5000
DAYS      ?= 730
SEED      ?= 7
MINUTES   ?= 5
EXTRAS    ?= dev,redis,postgres,spark

.PHONY: run test install pipeline models serve lint format bench soak clean

run: install pipeline models serve ## set up the demo on DATA (default data/) and serve it on :8000

install: $(VENV)/.installed ## create .venv and install the project with its extras

# --compile-bytecode: where PYTHONDONTWRITEBYTECODE is set (as on CI), nothing caches the
# libraries' bytecode, and every process (each CLI call, each test subprocess) would compile
# MLflow, Feast and pandas from source again: their import took 14 s instead of 8 s here.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python --compile-bytecode --editable '.[$(EXTRAS)]'
	touch $@

pipeline: ## generate, ingest, build profiles and load the online feature store
	$(BIN)/powerhall generate --customers $(CUSTOMERS) --days $(DAYS) --seed $(SEED) --out $(DATA)/raw
	$(BIN)/powerhall ingest $(DATA)/raw --into $(DATA)/lake --quarantine $(DATA)/quarantine
	POWERHALL_DATA_DIR=$(DATA) $(BIN)/powerhall features build
	POWERHALL_DATA_DIR=$(DATA) $(BIN)/powerhall features materialize

models: ## train every model (MLflow, promotion gate), score everyone, serve the scores online
	POWERHALL_DATA_DIR=$(DATA) $(BIN)/powerhall train all
	POWERHALL_DATA_DIR=$(DATA) $(BIN)/powerhall score
	POWERHALL_DATA_DIR=$(DATA) $(BIN)/powerhall features materialize --view scores

serve: ## migrate the service database, sync customers, print demo keys, serve on :8000
	POWERHALL_DATA_DIR=$(DATA) $(BIN)/powerhall demo

test: install ## lint, then every test (unit, contract, real PostgreSQL/Redis, README commands)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install ## speed benchmarks; each prints ratios measured in one run
	$(BIN)/python benchmarks/bench_generate.py
	$(BIN)/python benchmarks/bench_tariff_engine.py
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_profiles.py
	$(BIN)/python benchmarks/bench_online.py
	$(BIN)/python benchmarks/bench_score.py
	$(BIN)/python benchmarks/bench_suggest.py
	$(BIN)/python benchmarks/bench_tariff_simulate.py --data $(DATA)
	$(BIN)/python benchmarks/bench_bill_forecast.py
	$(BIN)/python benchmarks/bench_api.py $(if $(wildcard $(DATA)/lake),--data $(DATA))
	$(BIN)/python benchmarks/bench_counter_screen.py $(if $(wildcard $(DATA)/lake),--data $(DATA))
	$(BIN)/python benchmarks/bench_closed_loop.py

soak: install ## MINUTES (default 5) of mixed traffic at 64 concurrent: errors, p50/p99 per route, memory growth
	$(BIN)/python benchmarks/soak.py --minutes $(MINUTES) $(if $(wildcard $(DATA)/lake),--data $(DATA))

clean: ## remove generated data and the MLflow store (keeps .venv)
	rm -rf $(DATA)/raw $(DATA)/lake $(DATA)/quarantine $(DATA)/features $(DATA)/feast mlruns/mlflow.db mlruns/artifacts
