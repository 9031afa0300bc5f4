# Two commands: `make lab` (open the course) and `make test` (run every test).
# Both create or reuse .venv and install the pinned requirements once.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
PORT ?= 8888

.PHONY: install lab test chromium bench fuzz load lock clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

lab: install
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG) --notebook-dir=notebooks

# Browser tests use Debian's Chromium (never a downloaded one); install it when we can.
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } ; } || \
	  echo "note: no chromium; browser tests will be skipped (apt-get install chromium)"

test: install chromium
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/run.py

# On demand, loopback only, bounded: malformed requests against both servers
# (RSS, descriptors, threads before and after), then load with signed-in devices.
fuzz: install
	$(BIN)/python benchmarks/fuzz.py

load: install
	$(BIN)/python benchmarks/load.py

lock:
	$(BIN)/python -m pip freeze --exclude-editable | sed '1i # Pinned, complete environment for make (pip install -r). Regenerate with: make lock' > requirements.lock

clean:
	rm -rf $(VENV)
