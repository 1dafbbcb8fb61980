# recsys-lab: `make lab` opens the course, `make test` runs every test. Both set up first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.recsys-lab-installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
CHROMIUM := /usr/bin/chromium
# Every package of `pip install -e '.[test]'`, pinned (Linux x86_64, Python 3.11): `make lock`.
LOCK   := requirements/lock.txt
# Where torch comes from: empty = pip's own configuration; for the CPU build on Linux without
# the wheel at hand: make test TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
TORCH_FLAG := $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
# What set-up installs: the lock's exact versions, and the kit itself (editable) in one resolve,
# so a lock that no longer fits pyproject.toml fails here. test-latest overrides it.
INSTALL := -r $(LOCK) -e '.[test]'
LATEST := .venv-latest
PIP_TOOLS := pip-tools==7.6.2

.PHONY: setup lab test test-latest lock bench notebooks release grade clean

# The stamp makes set-up idempotent: pip runs again only when pyproject.toml or the lock changes.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q $(TORCH_FLAG) $(INSTALL)
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

# Same numbers on every machine: torch, MKL, oneDNN, OpenBLAS and numpy pick AVX2 or AVX-512 kernels
# from the CPU they find, and those add in different orders. Every command below runs with the AVX2
# ones (recsys_lab/reproducibility.py explains; tests/test_reproducibility.py checks this block).
ifeq ($(shell uname -m),x86_64)
export ATEN_CPU_CAPABILITY := avx2
export MKL_CBWR := AVX2,STRICT
export ONEDNN_MAX_CPU_ISA := AVX2
export OPENBLAS_CORETYPE := Haswell
export NPY_DISABLE_CPU_FEATURES := X86_V4 AVX512_ICL AVX512_SPR
endif

# Every number a notebook prints must be a property of the code and the data, not of the BLAS /
# OpenMP thread count: the notebooks are validated against their stored outputs twice, with 2
# threads and with 1 (the unit tests fit the models in subprocesses with both, tests/test_determinism.py).
THREADS = OMP_NUM_THREADS=$(1) OPENBLAS_NUM_THREADS=$(1) MKL_NUM_THREADS=$(1)
# Cells get 5 minutes (the slowest takes under one alone) because the suites below share the CPU.
NBVAL := --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 300
LOGS := test-artifacts/logs

# Three independent pytest runs, side by side (tests/run_suites.py; one log each in $(LOGS)/):
# the notebooks with 2 threads, the notebooks with 1 thread, and the
# unit tests followed by the browser tests. Each is mostly one busy process, so on 2 cores the three
# take about half as long as one after another. The browser tests get a process of their own:
# Playwright's session keeps an asyncio loop running, which would change how the kernel-side
# widget tests behave if they shared its process.
test: setup $(CHROMIUM)
	$(BIN)/python tests/run_suites.py --logs $(LOGS) \
	  --suite "notebooks (2 threads)" "$(call THREADS,2) timeout 2400 $(BIN)/pytest notebooks $(NBVAL) -q" \
	  --suite "notebooks (1 thread)" "$(call THREADS,1) timeout 2400 $(BIN)/pytest notebooks $(NBVAL) -q" \
	  --suite "unit tests, then browser tests" "$(call THREADS,2) timeout 1200 $(BIN)/pytest tests \
	    --ignore=tests/browser -q && timeout 1500 $(BIN)/pytest tests/browser -q"

# The same tests in a second environment with the newest releases instead of the lock (torch stays
# ==2.13.0, pinned in pyproject.toml): what an upgrade would change. It may fail; the lock stays.
LATEST_MAKE = $(MAKE) --no-print-directory VENV=$(LATEST) \
	INSTALL="--upgrade --upgrade-strategy eager -e '.[test]'"
PINS = awk -F'==' '/^[A-Za-z0-9]/ && $$1 != "pip" {n = tolower($$1); gsub(/[-_.]+/, "-", n); \
	v = $$2; sub(/[ +].*/, "", v); print n "==" v}' | sort
test-latest:
	@rm -f $(LATEST)/.recsys-lab-installed
	@$(LATEST_MAKE) setup
	@cat $(LOCK) | $(PINS) > $(LATEST)/locked.txt
	@$(LATEST)/bin/python -m pip list --format=freeze --exclude-editable | $(PINS) > $(LATEST)/newest.txt
	@echo "Newest releases against $(LOCK) ('<' locked, '>' newest):"
	@diff $(LATEST)/locked.txt $(LATEST)/newest.txt | grep '^[<>]' || echo "  none: the lock is current"
	@$(LATEST_MAKE) test

# Regenerate the lock with pip-tools (in a throwaway venv) from pyproject.toml and its test extra,
# keeping the pins that still fit; UPGRADE=1 moves every package to its newest release. Run it on
# Linux x86_64 with Python 3.11. torch's local label (+cpu) is dropped so that ==2.13.0 takes
# whichever CPU build pip finds; a CUDA build (nvidia-* packages) in the lock is refused.
lock:
	@tools=$$(mktemp -d) && trap 'rm -rf "$$tools"' EXIT && \
	$(PYTHON) -m venv "$$tools" && "$$tools/bin/python" -m pip install -q $(PIP_TOOLS) && \
	CUSTOM_COMPILE_COMMAND="make lock" "$$tools/bin/pip-compile" --quiet --extra test \
		--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
		--no-emit-trusted-host $(if $(UPGRADE),--upgrade) $(TORCH_FLAG) \
		--output-file $(LOCK) pyproject.toml
	sed -E -i.bak 's/^(torch==[^ +]+)\+[A-Za-z0-9.]+/\1/' $(LOCK) && rm -f $(LOCK).bak
	@! grep -inE '^(nvidia-|triton|cuda)' $(LOCK) || { echo "$(LOCK) holds a CUDA build of" \
		"torch: run make lock TORCH_INDEX=https://download.pytorch.org/whl/cpu"; exit 1; }
	@echo "$(LOCK): $$(grep -cE '^[a-z0-9]' $(LOCK)) packages pinned"

# Re-execute every notebook in place (after changing one), so its stored outputs are current.
notebooks: setup
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace notebooks/*.ipynb notebooks/solutions/*.ipynb

# Instructors: the students' copy (make release OUT=release CLEAR=1 clears outputs) and a grader
# (make grade SUBMISSIONS=folder writes grades.csv: one row per notebook and exercise).
OUT ?= release
SUBMISSIONS ?= submissions
release: setup
	$(BIN)/python -m recsys_lab.course release $(OUT) $(if $(CLEAR),--clear-outputs)
grade: setup
	$(BIN)/python -m recsys_lab.course grade $(SUBMISSIONS) --csv grades.csv

# The peer libraries are installed for the benchmark only; the kit never imports them.
bench: setup
	$(BIN)/python -m pip install --disable-pip-version-check -q $(TORCH_FLAG) -c $(LOCK) -e '.[bench]'
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(LATEST) build *.egg-info
