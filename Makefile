# One command to set up and open the course, one to run every test.
#   make lab    create .venv, install the course, open JupyterLab on notebooks/
#   make test   create .venv, install the course with dev tools, run all tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test test-browser test-gpu setup lint exercises html bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,cluster]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $(STAMP)

setup: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# Tests and notebooks run in 2 worker processes, each with one BLAS thread (no oversubscription
# on 2 cores); --dist loadfile keeps every cell of a notebook in one kernel, in order.
test: $(STAMP)
	$(BIN)/ruff check coursepkg tests benchmarks notebooks solutions exercises
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 MPLBACKEND=Agg \
	$(BIN)/python -m pytest -n 2 --dist loadfile --timeout=900 \
	  --nbval-lax --nbval-current-env --nbval-cell-timeout=300 tests notebooks solutions

test-browser: $(STAMP)
	$(BIN)/python -m pytest -m browser tests/browser

# On a machine with an NVIDIA GPU and CuPy (pip install -e ".[gpu]", or cupy-cuda13x for CUDA 13):
# the CuPy tests, then the GPU lesson with its GPU cells.
test-gpu: $(STAMP)
	$(BIN)/python -c "import sys, coursepkg as cp; cp.gpu_available() or sys.exit('make test-gpu: no usable GPU (CuPy missing or no NVIDIA device)')"
	MPLBACKEND=Agg $(BIN)/python -m pytest -m gpu tests
	MPLBACKEND=Agg $(BIN)/python -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=300 notebooks/14_gpu.ipynb

lint: $(STAMP)
	$(BIN)/ruff check .

exercises: $(STAMP)
	$(BIN)/coursepkg release solutions exercises

html: $(STAMP)
	$(BIN)/coursepkg html notebooks site

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) site grades .pytest_cache .ruff_cache
