# Two entry points (README): `make demo` runs the main job, `make test` the whole test suite.
# Both create .venv and install what they need first (torch: the CPU wheel, never a CUDA build).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-tensors test lint generate help-docs install browser docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build first, so that resolving the package never pulls a CUDA torch.
	$(BIN)/pip install --quiet "torch==2.13.0" || $(BIN)/pip install --quiet "torch>=2.1,<=2.14.1" --index-url https://download.pytorch.org/whl/cpu
	# The test extra and the docs extra (tests/docs/test_site.py builds the documentation site).
	$(BIN)/pip install --quiet -e ".[test,docs]"
	# CHGNet (extra `chgnet`, a 14 MB wheel with its weights; 14 s on top of the test extra) runs the
	# audit's CHGNet tests; they skip cleanly without it, so a failed install only warns.
	$(BIN)/pip install --quiet -e ".[chgnet]" || echo "warning: chgnet not installed; tests/audit/test_chgnet.py will skip"
	# PyTorch Geometric (extra `hosts`, pure Python, keeps the CPU torch) runs the host-model tests
	# (tests/test_hosts.py); they skip cleanly without it, so a failed install only warns.
	$(BIN)/pip install --quiet -e ".[hosts]" || echo "warning: torch_geometric not installed; tests/test_hosts.py will skip"
	# Dask distributed (extra `cluster`) runs the --scheduler tests on a LocalCluster; they skip without it.
	$(BIN)/pip install --quiet -e ".[cluster]" || echo "warning: dask[distributed] not installed; the --scheduler tests will skip"
	# SevenNet (extra `sevenn`, weights in its wheel) runs the audit's SevenNet tests; they skip without it.
	$(BIN)/pip install --quiet -e ".[sevenn]" || echo "warning: sevenn not installed; the SevenNet audit tests will skip"
	touch $(STAMP)

# Headless Chromium renders the HTML report in the tests (Debian's package; needs root and apt).
browser:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; } || \
		echo "warning: chromium not installed; the report rendering test needs /usr/bin/chromium"

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/crystal-fourier demo

# The elastic-tensor comparison (issue 19): symmetric tensor head against the free head, its post-hoc
# projection and per-component ridge/GBM, on 230 EMT elastic tensors the package makes (76 s measured on 2 shared cores).
demo-tensors: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python bench/bench_tensors.py --size 230 --epochs 30 --batch-size 64 --lr 3e-3 \
		--seeds 0 --data-dir demo-output --json demo-output/tensors.json

# The linter: ruff with the bugbear (B), pytest-style (PT) and pylint (PL) families (pyproject [tool.ruff]).
lint: $(STAMP)
	$(BIN)/ruff check .

# CI=true adds the exhaustive 230-group sweeps (pytest -m sweep) to the default suite.
test: $(STAMP) browser lint
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n auto -q $(if $(filter true,$(CI)),-m "sweep or not sweep",)

# Rewrite the committed --help snapshots (docs/cli/*.txt) after changing the command line.
help-docs: $(STAMP)
	$(BIN)/python -c 'from crystal_fourier.cli import write_help_docs; print(write_help_docs("docs/cli"))'

# Re-render the shipped generated/ modules into this checkout (an explicit path: never the installed package).
generate: $(STAMP)
	$(BIN)/crystal-fourier generate --shipped --out generated/

# The documentation site, offline, into docs/_build/html: warnings are errors (broken internal links
# included), every gallery example runs. `make docs` after an edit rebuilds only what changed.
docs: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m sphinx -W --keep-going -q -b html docs docs/_build/html

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis docs/_build docs/api/generated docs/auto_examples
