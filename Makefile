# 信访 intake assistant. Quick start: `make run`, `make test`.
# Two environments (contract §1): .venv (bot, Python 3.10, Rasa) and
# .venv-backend (backend, Python 3.12). Interpreters are found under pyenv's
# root even when its shims are not on PATH; override with PY310=/PY312=.

SHELL := /bin/bash
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
PY310 ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.10.*/bin/python3.10))),$(shell command -v python3.10))
PY312 ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.12.*/bin/python3.12))),$(shell command -v python3.12))
BOT := .venv/bin
BACKEND := .venv-backend/bin
PIP_FLAGS := --quiet --disable-pip-version-check --no-warn-script-location
DATA := config.yml $(wildcard bot/domain/*.yml) $(wildcard data/*/*.yml) $(wildcard bot/jieba_dict/*)
export PYTHONPATH := $(CURDIR)

.PHONY: help install run train test test-bot test-backend eval bench lint validate clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

.venv/.installed: requirements/bot.txt pyproject.toml
	@test -n "$(PY310)" || { echo "找不到 Python 3.10（pyenv 的 versions/3.10.*）" >&2; exit 1; }
	test -x $(BOT)/python || $(PY310) -m venv .venv
	$(BOT)/pip install $(PIP_FLAGS) -r requirements/bot.txt
	$(BOT)/pip install $(PIP_FLAGS) --no-deps -e .
	touch $@

.venv-backend/.installed: requirements/backend.txt
	@test -n "$(PY312)" || { echo "找不到 Python 3.12（pyenv 的 versions/3.12.*）" >&2; exit 1; }
	test -x $(BACKEND)/python || $(PY312) -m venv .venv-backend
	$(BACKEND)/pip install $(PIP_FLAGS) -r requirements/backend.txt
	touch $@

install: .venv/.installed .venv-backend/.installed  ## create both environments

models/.trained: .venv/.installed $(DATA)
	$(BOT)/rasa train --domain bot/domain --out models --num-threads 2
	touch $@

train: models/.trained  ## train the Rasa model when the data changed

validate: .venv/.installed  ## rasa data validate, plus the checks it cannot make
	$(BOT)/python -m pytest tests/stories/test_training_data.py -q -p no:cacheprovider

run: install models/.trained  ## start rasa, actions, backend API and worker
	$(BOT)/xinfang run

test: install models/.trained  ## the whole test suite (both environments)
	@bash scripts/test.sh

eval: install models/.trained  ## held-out NLU, routing and emergency report
	$(BOT)/python -m tests.eval.run_eval

bench: install models/.trained  ## speed and memory numbers for the README
	$(BOT)/python -m tests.bench.run_bench

lint: install  ## byte-compile everything in its own environment
	$(BOT)/python -m compileall -q actions channels bot tests
	$(BACKEND)/python -m compileall -q backend

clean:  ## remove models and runtime state (not the environments)
	rm -rf models var results .rasa
