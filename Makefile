# corridor: two commands on a fresh machine, `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXAMPLE ?= examples/east-aleppo-2016/scenario.toml
# `make run PORT=8443 HOST=0.0.0.0 SERVE_ARGS=--tls`: where the service listens, and more options.
PORT ?= 8000
HOST ?= 127.0.0.1
SERVE_ARGS ?=

NODE_STAMP := frontend/node_modules/.installed
CHROMIUM ?= /usr/bin/chromium
FONT ?= /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

.PHONY: run test lint typecheck layers pytest bench clean setup setup-fonts setup-browser kernels-checked messages

setup: $(STAMP) $(NODE_STAMP) setup-fonts

# The install also compiles the planner's inner loops (src/corridor/solve/_kernels.pyx, Cython) where
# a C compiler is; without one it goes on, and the planner runs on their plain-Python reference.
$(STAMP): pyproject.toml setup.py src/corridor/solve/_kernels.pyx
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Front-end packages (htmx, Leaflet, Swagger UI) from the npm registry, at the versions of the lock file.
$(NODE_STAMP): frontend/package.json frontend/package-lock.json
	npm ci --prefix frontend --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# Situation report PDFs are set in DejaVu Sans (Latin and Arabic), from Debian's packages.
setup-fonts:
	@test -f $(FONT) || { echo "Installing Debian's fonts-dejavu-core for PDF reports"; \
	  apt-get install -y --no-install-recommends fonts-dejavu-core >/dev/null \
	  || { apt-get update >/dev/null && apt-get install -y --no-install-recommends fonts-dejavu-core >/dev/null; }; }

# The browser tests drive Debian's chromium (Playwright cannot download its own browser here).
setup-browser:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests"; \
	  apt-get install -y --no-install-recommends chromium >/dev/null \
	  || { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null; }; }

run: setup
	$(BIN)/corridor plan $(EXAMPLE) --out out/east-aleppo-2016
	$(BIN)/corridor convoy $(EXAMPLE) --time-limit 20 --out out/east-aleppo-2016/convoy
	$(BIN)/corridor serve --seed-example --host $(HOST) --port $(PORT) $(SERVE_ARGS)

test: lint typecheck layers pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

pytest: setup setup-browser
	$(BIN)/pytest -q -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m bench.planner

# The compiled loops with bounds checks on, in build/checked (the tests run the planner on them when
# they are there, and build them when a C compiler is); the install's own loops are not touched.
kernels-checked: $(STAMP)
	CORRIDOR_KERNELS_CHECKED=1 $(BIN)/python setup.py -q build_ext --build-lib build/checked \
	  --build-temp build/checked-tmp

# Message catalogs (gettext PO files, src/corridor/{server/web,reports}/locales/<lang>/LC_MESSAGES):
# finds the keys the code and templates use (pybabel extract, babel.cfg), adds every English key
# missing from another language (empty, for a translator) and names keys used but defined nowhere.
WEB_LOCALES := src/corridor/server/web/locales
REPORT_LOCALES := src/corridor/reports/locales
messages: $(STAMP)
	@mkdir -p build
	$(BIN)/pybabel -q extract -F babel.cfg --no-default-keywords -k t -k text --omit-header \
	  -o build/messages-web.pot src/corridor 2>/dev/null
	$(BIN)/python -m corridor.core.catalog_update $(WEB_LOCALES) --used build/messages-web.pot --also $(REPORT_LOCALES)
	$(BIN)/pybabel -q extract -F babel.cfg --no-default-keywords -k t -k text --omit-header \
	  -o build/messages-reports.pot src/corridor/reports/tripsheets.py src/corridor/reports/tripsheets_pdf.py 2>/dev/null
	$(BIN)/python -m corridor.core.catalog_update $(REPORT_LOCALES) --used build/messages-reports.pot

clean:
	rm -rf $(VENV) frontend/node_modules out .pytest_cache .mypy_cache .ruff_cache build src/corridor.egg-info
	rm -f src/corridor/solve/_kernels.c src/corridor/solve/_kernels.*.so
