# Two commands on a fresh machine with Python 3.11+:  make run   |   make test
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test browser bench lint clean
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)  ## the service on embedded PostgreSQL with the demo domain, on http://127.0.0.1:8000
	$(VENV)/bin/profiles serve --demo

test: $(STAMP) browser  ## the whole test suite (embedded PostgreSQL unless DATABASE_URL is set)
	$(PY) -m pytest $(PYTEST_ARGS)

# The browser tests drive Debian's Chromium (a test tool's own browser download cannot
# work here); a fresh machine has none, so the test command installs it first.
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium for the browser tests …"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; } \
	  || echo "chromium could not be installed; the browser tests will fail"

bench: $(STAMP)  ## every benchmark, full size; figures land in bench/results/
	$(PY) -m bench.run_all

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .data .pytest_cache
