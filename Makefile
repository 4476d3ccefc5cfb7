# Two commands set everything up on a fresh machine:
#   make dev ARGS="--demo"   the development stack (Kubernetes, GitHub and model emulators + operator)
#   make test                the test suite
# Both install exactly the locked versions: Python packages from requirements/dev.txt (hashes
# checked), Node.js packages from package-lock.json. `make lock` refreshes the locks.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
# Three workers on CI's two cores: the suite waits on subprocesses (git, harness CLIs, emulators and
# browsers) for about 40% of its time, so a third worker fills the idle core time. Work stealing: a
# worker that runs out takes pending tests from the others, so the long e2e tests do not queue up
# behind one worker at the end.
PYTEST_ARGS ?= -n 3 --dist worksteal
# kubectl and the other tools the venv installs come first, then the harness CLIs.
TOOLS_PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$$PATH

.PHONY: install harnesses browser office dev test check crds lint lock

$(BIN)/atomesh: pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes --no-deps -r requirements/dev.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

install: $(BIN)/atomesh

# The Claude Code and OpenCode CLIs and GitHub's API descriptions, as package-lock.json pins them.
# `npm install --no-save` rather than `npm ci`: opencode-ai lists a binary package per platform as
# optional, not every one of them is published for every release, so the lock cannot record them
# and `npm ci` refuses such a lock; `install` takes every version from the lock and skips the
# platforms' binaries that do not exist, and --no-save leaves the lock as it is.
harnesses: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm install --no-save --silent --no-audit --no-fund
	touch $@

# Debian's chromium for the browser test of the review page (Playwright drives it; it downloads no browser).
# apt-get needs root: sudo when not root. Nothing to do when it is installed.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

# Debian's LibreOffice (Writer and Impress, without GUI) and poppler's pdftoppm, with which publish renders
# page images of changed slides and documents (about 270 MiB, a minute to install). Opt-in here; CI
# installs it so the rendering tests run there.
office:
	@{ command -v soffice && command -v pdftoppm; } >/dev/null || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		libreoffice-impress-nogui libreoffice-writer-nogui poppler-utils; }

dev: install harnesses
	PATH="$(TOOLS_PATH)" $(BIN)/atomesh dev $(ARGS)

test: install harnesses browser
	PATH="$(TOOLS_PATH)" $(BIN)/python -m pytest $(PYTEST_ARGS)

check: install
	$(BIN)/ruff check operator tests bench agents
	$(BIN)/ruff format --check operator tests bench agents
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/atomesh crds --check
	$(BIN)/atomesh lint agents/

crds: install
	$(BIN)/atomesh crds

# Re-resolve every dependency within the ranges of pyproject.toml and package.json, and rewrite
# the lock files; review the diff like any other change.
lock: install
	$(BIN)/pip install -q uv==$(UV_VERSION)
	$(BIN)/uv pip compile -q --upgrade --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" \
		pyproject.toml -o requirements/runtime.txt
	$(BIN)/uv pip compile -q --upgrade --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" \
		pyproject.toml requirements/build.in --extra dev -o requirements/dev.txt
	npm install --package-lock-only --no-audit --no-fund
