# Two commands on a fresh machine with Python 3.11+:  make run   |   make test
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test bench lint clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)  ## the service on embedded PostgreSQL with the demo domain, on http://127.0.0.1:8000
	$(VENV)/bin/profiles serve --demo

test: $(STAMP)  ## the whole test suite (embedded PostgreSQL unless DATABASE_URL is set)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)  ## every benchmark, full size; figures land in bench/results/
	$(PY) -m bench.run_all

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .data .pytest_cache
