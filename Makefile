# The two commands of the README: `make synth` (the main job) and `make test`.
# Both set up a fresh machine first: a virtualenv from requirements-dev.txt
# and the CDK CLI pinned in package.json.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The virtualenv first (cdk.json runs python3 app.py), then the Node.js LTS that
# package.json pins (jsii runs `node` from PATH), then the machine's own.
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: synth test lint docs browser terminal setup clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: setup
	node_modules/.bin/cdk synth

# Two workers, each taking whole test files (their module fixtures start servers once).
test: setup browser terminal
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The documentation site's test opens its pages in Debian's Chromium: installed when missing
# (as root, as in CI).
browser:
	command -v chromium >/dev/null || { apt-get update && apt-get install -y chromium; }

# The status command's --watch test types into a real terminal: Debian's tmux, installed when missing.
terminal:
	command -v tmux >/dev/null || { apt-get update && apt-get install -y tmux; }

# ruff (lint and format) and mypy, configured in pyproject.toml; CI runs this before the tests.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The documentation site (mkdocs.yml) in site/. --strict fails on a broken link or a missing API
# reference (not with --quiet, which hides the warnings that --strict counts). Importing the
# package for its docstrings starts jsii, hence the Node.js of the set-up.
docs: setup
	$(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) node_modules cdk.out out dist build site

# Plain CloudFormation, the release package and the run preview (README: "Without CDK").
.PHONY: provider-template package preview

# dist/omics-run-provider.template.json and, beside it, the zip of its Lambda code.
provider-template: $(VENV)/.installed
	$(BIN)/python scripts/build_provider_template.py --outdir dist

# The sdist, then the wheel built from it (which checks the sdist is complete), in dist/.
package: $(VENV)/.installed
	$(BIN)/python -m build --no-isolation --outdir dist .

# The StartRun request each Custom::OmicsRun of the example app will make.
preview: setup
	node_modules/.bin/cdk synth --quiet
	$(BIN)/python -m cdk_omics_run.preview cdk.out

# Fails when shipped files changed since the version last changed, while CHANGELOG.md did not
# (standard library and git only: it needs no set-up).
.PHONY: release-check
release-check:
	$(PYTHON) scripts/release_check.py
