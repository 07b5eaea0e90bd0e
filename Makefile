# Two commands for a newcomer: `make demo` (install + text -> ASL video) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --disable-pip-version-check -q
TEXT   ?= Hello, I am Sam. Where is the bathroom? I am not hungry, thank you.

.PHONY: demo test install install-all bench notebooks figures clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The translate path only: numpy, pose-format, spoken-to-signed, OpenCV, imageio-ffmpeg (~1 min).
$(VENV)/.installed-core: $(BIN)/python pyproject.toml requirements.lock
	$(PIP) -c requirements.lock -e .
	touch $@

# Everything: MediaPipe, torch/diffusers/peft, evaluation, notebooks, test tools (~2 min, 2.8 GB).
$(VENV)/.installed-all: $(BIN)/python pyproject.toml requirements.lock
	$(PIP) -r requirements.lock -e '.[all]'
	touch $@ $(VENV)/.installed-core

install: $(VENV)/.installed-core
install-all: $(VENV)/.installed-all

demo: $(VENV)/.installed-core
	@mkdir -p out
	$(BIN)/text2asl translate "$(TEXT)" -o out/demo.mp4

# The package is byte-compiled first: where PYTHONDONTWRITEBYTECODE is set (some sandboxes and CI
# images), every Python process the tests start (commands, notebook kernels, trainers) would
# otherwise compile its modules again.
test: $(VENV)/.installed-all
	$(BIN)/python -m compileall -q text2asl
	$(BIN)/python -m pytest -q -n 2 --maxschedchunk 1 --durations=15 $(PYTEST_ARGS)

bench: $(VENV)/.installed-all
	for b in benchmarks/bench_*.py; do echo "## $$b"; $(BIN)/python $$b || exit 1; done

figures: $(VENV)/.installed-all
	$(BIN)/python -m text2asl.figures

clean:
	rm -rf out .pytest_cache
