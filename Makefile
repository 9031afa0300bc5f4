# Two commands: `make lab` (open the course) and `make test` (run every test).
# Both create or reuse .venv and install the pinned requirements once, and say
# what they are doing before each step that takes more than a moment.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
PORT ?= 8888
# `make test CHROMIUM=no` (or CHROMIUM=no in the environment) skips installing Chromium.
CHROMIUM ?= yes
# Extra arguments for `make serve`, e.g. ARGS="--port 8080".
ARGS ?=
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
SAY := @echo "labkit:"

.PHONY: install lab serve test chromium bench memory fuzz load lock clean

install: $(STAMP)

# The settings file is installed by `pip install -e .`, so a change to it reinstalls.
$(STAMP): requirements.lock pyproject.toml jupyterlab-settings/overrides.json
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "labkit: the course needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	  echo "labkit: install a newer Python, then run: make $(MAKECMDGOALS) PYTHON=python3.12"; exit 1; }
	@test -x $(BIN)/python || { \
	  echo "labkit: creating the virtual environment $(VENV) with $$($(PYTHON) --version)..."; \
	  $(PYTHON) -m venv $(VENV); }
	$(SAY) "installing the pinned packages of requirements.lock into $(VENV) (about 40 s and 700 MB the first time)..."
	@$(PIP) -r requirements.lock
	$(SAY) "installing labkit itself into $(VENV) (editable: your edits to labkit/ take effect at once)..."
	@$(PIP) --no-deps -e .
	@# pip compiles every other package's bytecode as it installs it, but not an
	@# editable one's; where PYTHONDONTWRITEBYTECODE is set (many container images),
	@# every kernel would otherwise compile labkit again as it imports it.
	@$(BIN)/python -m compileall -q labkit >/dev/null
	@touch $(STAMP)
	$(SAY) "$(VENV) is ready."

# Opens notebook 00 at the root of notebooks/; the news pop-up is off (jupyterlab-settings/).
lab: install
	$(SAY) "starting JupyterLab; open the http://127.0.0.1:$(PORT)/lab/... URL it prints below (Ctrl-C twice stops it)."
	@$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG) --notebook-dir=notebooks \
	  --LabApp.default_url=/lab/tree/00-start-here.ipynb

serve: install
	$(SAY) "starting the simulator (origin and captive-portal gateway on 127.0.0.1; Ctrl-C stops it)..."
	@$(BIN)/labkit serve $(ARGS)

# Browser tests drive JupyterLab and the portal in Debian's Chromium (never a
# downloaded one); notebook 05 also runs curl and wget behind the portal. Installing
# them as root asks apt-get for nothing but the install, with Debian's recommended
# packages, the set the browser tests were run against.
chromium:
ifeq ($(CHROMIUM),no)
	@command -v chromium >/dev/null || echo "labkit: CHROMIUM=no: not installing Chromium (nor curl or wget); the browser tests and notebook 05 will be skipped."
else
	@missing=""; for tool in chromium curl wget; do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "labkit: installing$$missing with apt-get for the browser tests (JupyterLab and the portal in a real browser) and notebook 05 (curl, wget and Chromium behind the portal):"; \
	  echo "labkit:   Chromium is about 110 packages with what Debian recommends beside it, 1-2 min; skip it with: make test CHROMIUM=no"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; } || \
	  echo "labkit: apt-get could not install$$missing; the tests that need them will be skipped."; \
	else \
	  echo "labkit: no$$missing here, so the tests that need them will be skipped (to run them: sudo apt-get install$$missing)."; \
	fi
endif

test: install chromium
	$(SAY) "running every test: unit, loopback, browser and the notebooks (about 6 min)..."
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/run.py

memory: install
	$(BIN)/python benchmarks/memory.py

# On demand, loopback only, bounded: malformed requests against both servers
# (RSS, descriptors, threads before and after), then load with signed-in devices.
fuzz: install
	$(BIN)/python benchmarks/fuzz.py

load: install
	$(BIN)/python benchmarks/load.py

# uvloop keeps pyproject.toml's marker: it has no Windows build, and Windows learners install from this file.
lock:
	$(BIN)/python -m pip freeze --exclude-editable | \
	  sed -e "1i # Pinned, complete environment for 'make' (pip install -r). Regenerate with: make lock" \
	      -e 's/^uvloop==.*/& ; sys_platform != "win32"/' > requirements.lock

clean:
	rm -rf $(VENV)
