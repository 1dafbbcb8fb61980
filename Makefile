# recsys-lab: `make lab` opens the course, `make test` runs every test. Both set up first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.recsys-lab-installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
CHROMIUM := /usr/bin/chromium

.PHONY: setup lab test bench notebooks clean

# The stamp makes set-up idempotent: pip runs again only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)

lab: setup
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/00_welcome.ipynb

# Debian's Chromium, driven by Playwright in tests/browser; installed only when absent
# (CI runs as root: no sudo). Playwright itself never downloads a browser here.
$(CHROMIUM):
	@test "$$(id -u)" = 0 || { echo "The browser tests need Debian's chromium: run" \
		"'sudo apt-get update && sudo apt-get install -y chromium' once, then make test again."; exit 1; }
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

# Two pytest runs: Playwright's session keeps an asyncio loop running, which would change how
# the kernel-side widget tests behave if they shared its process.
test: setup $(CHROMIUM)
	timeout 1500 $(BIN)/pytest tests notebooks --ignore=tests/browser --nbval \
		--nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 120 -q
	timeout 600 $(BIN)/pytest tests/browser -q

# Re-execute every notebook in place (after changing one), so its stored outputs are current.
notebooks: setup
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace notebooks/*.ipynb

# The peer libraries are installed for the benchmark only; the kit never imports them.
bench: setup
	$(BIN)/python -m pip install --disable-pip-version-check -q scikit-surprise implicit
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
