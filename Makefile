# Set-up and everyday commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of PyTorch lies on this project's machines, so `pip` takes it in seconds. The package
# itself only asks for torch>=2.2; override TORCH_PIN to use another build.
TORCH_PIN ?= torch==2.13.0

.PHONY: setup docs napari-deps test-napari browser serve demo test test-slow test-fuzz test-ray test-all lint typecheck bench-quick clean check-wheel

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_PIN)"
	$(BIN)/python -m pip install -q -e ".[viz,web,dev,ray,docs,napari]"
	touch $@

setup: $(BIN)/.installed

# The browser test drives the system's Chromium through Playwright (never `playwright install`): Debian's
# package, installed here when missing (needs root; otherwise it says what to run).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q --no-install-recommends chromium; \
	  else echo "the browser test needs Chromium: sudo apt-get install chromium (it is skipped without it)"; fi; }

# The napari tests' virtual X display (Xvfb: napari draws with OpenGL, which Qt's offscreen platform gets from
# it) and the libraries Qt and vispy load: Debian's packages, installed here when missing (needs root).
napari-deps:
	@command -v xvfb-run >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q --no-install-recommends \
	    xvfb xauth libfontconfig1 libglib2.0-0; \
	  else echo "the napari tests need Xvfb: sudo apt-get install xvfb xauth libfontconfig1 libglib2.0-0"; exit 1; fi; }

# the napari plugin in a headless viewer (tests/test_napari.py), in a virtual X display
test-napari: setup napari-deps
	QT_QPA_PLATFORM=offscreen xvfb-run -a -s "-screen 0 1280x1024x24" $(BIN)/python -m pytest -q -m napari tests/test_napari.py

serve: setup
	$(BIN)/deepprior serve

demo: setup
	$(BIN)/deepprior demo --out demo-output

test: setup
	$(BIN)/python -m pytest -q

# the sdist and the wheel, the wheel installed (not editable) into a fresh environment and used from another folder
check-wheel: setup
	TORCH_PIN="$(TORCH_PIN)" PYTHON="$(PYTHON)" scripts/check_wheel.sh

test-slow: setup
	$(BIN)/python -m pytest -q -m slow

# the fuzz suite's long budget (FUZZ_SCALE=10 times the default suite's examples; tests/test_fuzz.py)
test-fuzz: setup
	$(BIN)/python -m pytest -q -m fuzz tests/test_fuzz.py

# batches on a local Ray cluster of 2 CPUs (tests/test_ray.py)
test-ray: setup
	$(BIN)/python -m pytest -q -m ray tests/test_ray.py

test-all: setup
	$(BIN)/python -m pytest -q -m ""

lint: setup
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

# the documentation site into site/, strict (a warning, a broken link or anchor fails); the command-line page is
# checked first against the commands (tests/test_docs.py checks it too)
docs: setup
	$(BIN)/python scripts/make_cli_docs.py --check
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

bench-quick: setup
	$(BIN)/deepprior bench denoise --quick

clean:
	rm -rf $(VENV) demo-output build site *.egg-info
