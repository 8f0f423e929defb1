# scoresde: build, test, figures and notebooks.
#
#   make test       go vet, go test, then every notebook run headless in quick mode (not modified)
#   make figures    regenerates the figures in docs/
#   make notebook   opens Jupyter (GoNB kernel) on notebooks/, on localhost
#   make notebooks  re-runs every notebook in full and saves it with its outputs
#   make bench      runs the benchmarks
#   make tools      installs Jupyter (Debian packages, if missing) and the GoNB kernel

# GoMLX's pure-Go backend uses Go's SIMD packages, available with this experiment.
export GOEXPERIMENT = simd
# Backend for tests, notebooks and figures: the pure-Go backend without its worker pool is the
# safe choice offline and on small machines; override e.g. with GOMLX_BACKEND=go or xla:cuda.
GOMLX_BACKEND ?= go:parallelism=-1
export GOMLX_BACKEND

# Quiets a warning that Debian's Python 3.11 debugger support prints at every Jupyter start.
export PYDEVD_DISABLE_FILE_VALIDATION = 1

GOTEST_TIMEOUT ?= 15m
BENCHTIME ?= 1s
BENCH_TIMEOUT ?= 60m
# Port and bind address of `make notebook`.
NB_PORT ?= 8888
NB_IP ?= 127.0.0.1

JUPYTER_PACKAGES := jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
NOTEBOOKS := $(wildcard notebooks/[0-9]*.ipynb)

# Steps run one after another: each of them already uses every core.
.NOTPARALLEL:

.PHONY: help test vet gotest test-notebooks check-notebooks figures notebook notebooks bench \
	tools jupyter kernel

help:
	@sed -n 's/^#   //p' Makefile

## Tests ---------------------------------------------------------------------------------------

test: vet gotest test-notebooks check-notebooks

vet:
	go vet ./...

gotest:
	go test -timeout $(GOTEST_TIMEOUT) ./...

# Runs every notebook with SCORESDE_QUICK=1 into a temporary folder (the notebooks in the tree
# are never modified) and fails on any error output. Needs Jupyter only if there are notebooks.
test-notebooks: $(if $(NOTEBOOKS),kernel)
	scripts/run-notebooks --quick $(NOTEBOOKS)

# Every notebook in the tree must be under 4 MB and free of error outputs.
check-notebooks:
	scripts/check-notebooks --max-mb 4 $(wildcard notebooks/*.ipynb)

bench:
	go test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout $(BENCH_TIMEOUT) ./...

## Figures and notebooks -----------------------------------------------------------------------

figures:
	go run ./cmd/scoresde figures --out docs

# Re-runs every notebook in full (no quick mode) and saves each in place, outputs included.
# A notebook that fails is left untouched; its executed copy and log are kept for inspection.
notebooks: $(if $(NOTEBOOKS),kernel)
	scripts/run-notebooks --inplace $(NOTEBOOKS)

# Opens Jupyter on notebooks/ without a browser; open the printed URL. Ctrl+C stops it.
notebook: kernel
	@token="$$(python3 -c 'import secrets; print(secrets.token_hex(16))')"; \
	echo; echo "Jupyter (GoNB kernel) on notebooks/ -- open:"; \
	echo "    http://$(NB_IP):$(NB_PORT)/tree?token=$$token"; echo; \
	exec jupyter notebook --no-browser \
		--ip=$(NB_IP) --port=$(NB_PORT) --NotebookApp.port_retries=0 \
		--NotebookApp.token="$$token" --notebook-dir="$(CURDIR)/notebooks" \
		$(if $(SUDO),,--allow-root)

## Tools ---------------------------------------------------------------------------------------

tools: kernel

# Installs Jupyter from Debian packages, only when the jupyter command is absent.
jupyter:
	@command -v jupyter >/dev/null 2>&1 || { \
		echo "Installing Jupyter from Debian packages: $(JUPYTER_PACKAGES)"; \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $(JUPYTER_PACKAGES); }

# Installs the GoNB kernel pinned in go.mod (idempotent; FORCE=1 reinstalls).
kernel: jupyter
	scripts/install-kernel
