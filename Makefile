# Two commands set everything up on a fresh machine:
#   make dev ARGS="--demo"   the development stack (Kubernetes, GitHub and model emulators + operator)
#   make test                the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NODE_PREFIX := .atomesh/node
HARNESS_VERSIONS := @anthropic-ai/claude-code@2.1.197 opencode-ai@1.18.33
PYTEST_ARGS ?= -n 2

.PHONY: install harnesses dev test check crds lint

$(BIN)/atomesh: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

install: $(BIN)/atomesh

# The Claude Code and OpenCode CLIs, pinned; tests of those harnesses skip without them.
harnesses: $(NODE_PREFIX)/.installed
$(NODE_PREFIX)/.installed:
	mkdir -p $(NODE_PREFIX)
	npm install --silent --no-audit --no-fund --prefix $(NODE_PREFIX) $(HARNESS_VERSIONS)
	touch $@

dev: install harnesses
	PATH="$(CURDIR)/$(NODE_PREFIX)/node_modules/.bin:$$PATH" $(BIN)/atomesh dev $(ARGS)

test: install harnesses
	PATH="$(CURDIR)/$(NODE_PREFIX)/node_modules/.bin:$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

check: install
	$(BIN)/ruff check operator tests bench agents
	$(BIN)/ruff format --check operator tests bench agents
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/atomesh crds --check
	$(BIN)/atomesh lint agents/

crds: install
	$(BIN)/atomesh crds
