# Two commands do everything on a fresh machine:
#   make demo   set up .venv and render the quickstart film (outputs/quickstart/quickstart.mp4)
#   make test   set up .venv and run the test suite (what CI runs)
#   make check  the fast lane for the edit loop: layering, pyflakes, tests not marked slow
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# The CPU build of PyTorch that lies on this machine's disk. A GPU user sets, e.g.,
#   make setup TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cu124"
TORCH_SPEC ?= torch==2.13.0
STAMP  := $(VENV)/.lossfilm-installed
# the suite's extra packages (pytest, the real Lightning/Hugging Face/viser/h5py it drives)
DEV_STAMP := $(VENV)/.lossfilm-dev-installed

.PHONY: setup setup-dev demo test check bench docs clean-outputs

# What a film needs: torch first (so no extra can pull another build), then lossfilm.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[cluster]"
	$(PY) -m lossfilm.render.doctor
	@touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(PY) -m pip install -q -e ".[dev,cluster]"
	@touch $(DEV_STAMP)

setup: $(STAMP)

setup-dev: $(DEV_STAMP)

demo: setup
	$(VENV)/bin/lossfilm run scenes/quickstart.yaml

test: setup-dev
	$(VENV)/bin/pytest -q

# The edit loop's lane: the house's layering, pyflakes, and every test not marked slow.
check: setup-dev
	$(VENV)/bin/ruff check --select F compute render tests benchmarks
	$(VENV)/bin/pytest -q -x -m "not slow" -p no:cacheprovider

bench: setup
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) benchmarks/surface.py
	$(PY) benchmarks/mesh.py
	$(PY) benchmarks/render.py

docs: setup-dev
	$(VENV)/bin/lossfilm keys --markdown > docs/scenes.md
	$(VENV)/bin/lossfilm schema -o docs/scene.schema.json
