# Everything a newcomer needs: `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SOURCES := archiver tests bench scripts

.PHONY: install test lint format demo bench e2e clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Test processes (pytest-xdist): one per core. The tests wait for nothing real (a FakeClock),
# so the suite is CPU-bound and parallel workers keep every core busy.
JOBS ?= auto

# ruff and the generated docs first (cheap), then the whole suite with mypy beside it (mypy
# is single-threaded: run alone it would leave a core idle). Any failure fails the target,
# pytest's exit 5 ("no tests ran") included: a suite that ran nothing has not passed.
test: $(STAMP)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/python scripts/generate_docs.py --check
	@typed=$$(mktemp); $(BIN)/mypy archiver tests > $$typed 2>&1 & mypy=$$!; \
	echo "$(BIN)/pytest -n $(JOBS)"; $(BIN)/pytest -n $(JOBS); tested=$$?; \
	wait $$mypy; checked=$$?; echo "$(BIN)/mypy archiver tests"; cat $$typed; rm -f $$typed; \
	[ $$checked -ne 0 ] && exit $$checked; exit $$tested

lint: $(STAMP)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/mypy archiver tests
	$(BIN)/python scripts/generate_docs.py --check
	$(BIN)/python scripts/check_cycles.py

format: $(STAMP)
	$(BIN)/ruff format $(SOURCES)
	$(BIN)/ruff check --fix $(SOURCES)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

# The import benchmark's peer, in a venv of its own (its dependencies must not touch ours).
PEER := bench/.peer-venv
$(PEER)/bin/chatgpt-to-sqlite:
	$(PYTHON) -m venv $(PEER)
	$(PEER)/bin/python -m pip install -q chatgpt-to-sqlite==1.0.0

# Benchmarks are never part of `make test`; they write docs/benchmarks.md and docs/reliability.md.
bench: $(STAMP) $(PEER)/bin/chatgpt-to-sqlite
	$(BIN)/python bench/run.py

# The viewer in a real headless Chromium (skipped without one); never part of `make test`.
e2e: $(STAMP)
	$(BIN)/python scripts/e2e_viewer.py

clean:
	rm -rf $(VENV) $(PEER) demo.db demo.db-wal demo.db-shm demo.db.lock demo.db.files demo bench/out
