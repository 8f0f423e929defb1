# scoresde: build, test, figures and notebooks.
#
#   make build         builds bin/scoresde (with GOEXPERIMENT=simd: the Go backend's SIMD kernels)
#   make install       installs scoresde into $(go env GOBIN) or ~/go/bin, with SIMD
#   make test          go vet, go test, fuzzing, every notebook headless in quick mode, then test-browser
#   make fuzz          runs every fuzz target for FUZZTIME (default 15s) each
#   make test-browser  opens every notebook untrusted in headless Chromium: figures visible, live widgets
#   make figures       regenerates the figures in docs/
#   make notebook      warms the Go build cache, then opens Jupyter (GoNB kernel) on notebooks/, on localhost
#   make notebooks     re-runs every notebook in full and saves it with its outputs
#   make bench         runs the benchmarks
#   make bench-compare side-by-side speed against the same math in PyTorch CPU (BENCH_COMPARE_FLAGS='--quick' or '--cases 1,3')
#   make tools         installs Jupyter, Chromium and chromedriver (Debian packages, if missing) and the GoNB kernel

# The recipes use bash (PIPESTATUS, pipefail).
SHELL := /bin/bash

# GoMLX's pure-Go backend uses Go's SIMD packages, available with this experiment.
export GOEXPERIMENT = simd
# Backend for tests, notebooks and figures: the pure-Go backend without its worker pool is the
# safe choice offline and on small machines; override e.g. with GOMLX_BACKEND=go or xla:cuda.
GOMLX_BACKEND ?= go:parallelism=-1
export GOMLX_BACKEND

# Quiets a warning that Debian's Python 3.11 debugger support prints at every Jupyter start.
export PYDEVD_DISABLE_FILE_VALIDATION = 1

GOTEST_TIMEOUT ?= 15m
# Time each fuzz target runs under `make fuzz` (and `make test`); the seed corpus is the f.Add
# seeds plus testdata/fuzz/ in each package, where a failing input found is written (commit it).
FUZZTIME ?= 15s
# package:Target of every fuzz target.
FUZZ_TARGETS := ./lib/npy:FuzzRead ./toy:FuzzSpec ./lib/data:FuzzIDX ./lib/data:FuzzExtract ./lib/train:FuzzState
BENCHTIME ?= 1s
BENCH_TIMEOUT ?= 60m
# Port and bind address of `make notebook`.
NB_PORT ?= 8888
NB_IP ?= 127.0.0.1

JUPYTER_PACKAGES := jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client
BROWSER_PACKAGES := chromium chromium-driver python3-selenium
# Flags of scripts/browser-test under `make test-browser`, e.g. BROWSER_TEST_FLAGS='--nb 05'.
BROWSER_TEST_FLAGS ?=
# Packages the notebooks import; `make notebook` compiles them first so that the first cell
# does not (GoNB builds each cell with the same GOEXPERIMENT and reuses the build cache).
NB_WARM_PACKAGES := ./lib/... ./plots ./toy github.com/janpfeifer/gonb/gonbui \
	github.com/janpfeifer/gonb/gonbui/widgets github.com/janpfeifer/gonb/gonbui/dom
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
NOTEBOOKS := $(wildcard notebooks/[0-9]*.ipynb)

# Steps run one after another: each of them already uses every core.
.NOTPARALLEL:

.PHONY: help build install test vet gotest fuzz test-notebooks check-notebooks test-browser figures \
	notebook notebooks warm bench tools jupyter browser kernel

help:
	@sed -n 's/^#   //p' Makefile

## Build ---------------------------------------------------------------------------------------

build:
	go build -o bin/scoresde ./cmd/scoresde
	@echo "built bin/scoresde (GOEXPERIMENT=$(GOEXPERIMENT)); try: bin/scoresde help"

install:
	go install ./cmd/scoresde
	@echo "installed scoresde in $$(d="$$(go env GOBIN)"; echo "$${d:-$$(go env GOPATH)/bin}") (GOEXPERIMENT=$(GOEXPERIMENT))"

## Tests ---------------------------------------------------------------------------------------

test: vet gotest fuzz test-notebooks check-notebooks test-browser

vet:
	go vet ./...

gotest:
	go test -timeout $(GOTEST_TIMEOUT) ./...

# Each target runs FUZZTIME with a bounded minimization per new input (extraction fuzzing
# otherwise spends its time shrinking inputs on disk); it prints the executions per target.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn for $(FUZZTIME)"; \
		go test $$pkg -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 50x 2>&1 | \
			{ grep -E '^(fuzz: elapsed|--- FAIL|ok|FAIL|PASS)|Failing input written' || true; } | tail -4; \
		test $${PIPESTATUS[0]} -eq 0 || { echo "fuzz $$fn failed: the failing input is under $$pkg/testdata/fuzz/$$fn"; exit 1; }; done

# Runs every notebook with SCORESDE_QUICK=1 into a temporary folder (the notebooks in the tree
# are never modified) and fails on any error output. Needs Jupyter only if there are notebooks.
test-notebooks: $(if $(NOTEBOOKS),kernel)
	scripts/run-notebooks --quick $(NOTEBOOKS)

# Every notebook in the tree must be under 4 MB and free of error outputs.
check-notebooks:
	scripts/check-notebooks --max-mb 4 $(wildcard notebooks/*.ipynb)

# Opens every notebook (a copy, untrusted) in headless Chromium through Jupyter and checks that
# each figure saved in it is visible, then drives notebook 05's live widget cell; screenshots
# go to a temporary folder that it prints.
test-browser: $(if $(NOTEBOOKS),kernel browser)
	$(if $(NOTEBOOKS),scripts/browser-test $(BROWSER_TEST_FLAGS),@echo "test-browser: no notebooks")

bench:
	go test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout $(BENCH_TIMEOUT) ./...

# Times each case of scripts/bench-vs-pytorch in scoresde (the whole process) and in PyTorch with 1
# and 2 threads, one after another, and prints one table; says how to install PyTorch if it is absent.
.PHONY: bench-compare
bench-compare: build
	scripts/bench-vs-pytorch --no-build $(BENCH_COMPARE_FLAGS)

## Figures and notebooks -----------------------------------------------------------------------

figures:
	go run ./cmd/scoresde figures --out docs

# Re-runs every notebook in full (no quick mode) and saves each in place, outputs included.
# A notebook that fails is left untouched; its executed copy and log are kept for inspection.
notebooks: $(if $(NOTEBOOKS),kernel)
	NB_CELL_TIMEOUT=$${NB_CELL_TIMEOUT:-10800} scripts/run-notebooks --inplace $(NOTEBOOKS)

# Compiles the packages the notebooks import, so that the first cell need not.
warm:
	@echo "warming the Go build cache (first time ~2 min)…"
	@go build $(NB_WARM_PACKAGES) || echo "warming the build cache failed (above); the notebooks' cells will show the same errors"

# Opens Jupyter on notebooks/ without a browser (GoNB the default kernel); open the printed URL.
# Ctrl+C stops it.
notebook: kernel warm
	@token="$$(python3 -c 'import secrets; print(secrets.token_hex(16))')"; \
	echo; echo "Jupyter (GoNB kernel) on notebooks/ -- open:"; \
	echo "    http://$(NB_IP):$(NB_PORT)/tree?token=$$token"; echo; \
	exec jupyter notebook --no-browser \
		--ip=$(NB_IP) --port=$(NB_PORT) --NotebookApp.port_retries=0 \
		--NotebookApp.token="$$token" --notebook-dir="$(CURDIR)/notebooks" \
		--MultiKernelManager.default_kernel_name=gonb \
		$(if $(SUDO),,--allow-root)

## Tools ---------------------------------------------------------------------------------------

tools: kernel browser

# Installs Jupyter from Debian packages, only when the jupyter command is absent.
jupyter:
	@command -v jupyter >/dev/null 2>&1 || { \
		echo "Installing Jupyter from Debian packages: $(JUPYTER_PACKAGES)"; \
		$(SUDO) apt-get -o DPkg::Lock::Timeout=600 update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y $(JUPYTER_PACKAGES); }

# Installs Chromium, chromedriver and Selenium from Debian packages (for test-browser), only
# when one is absent.
browser:
	@missing="$$(for p in $(BROWSER_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done)"; \
	if [ -n "$$missing" ]; then \
		echo "Installing from Debian packages: "$$missing; \
		$(SUDO) apt-get -o DPkg::Lock::Timeout=600 update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y $$missing; fi

# Installs the GoNB kernel pinned in go.mod (idempotent; FORCE=1 reinstalls).
kernel: jupyter
	scripts/install-kernel
