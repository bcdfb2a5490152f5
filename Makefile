# FocusDesk — two commands on a fresh Debian/Ubuntu machine with Python 3.11:
#   make run    set up a virtualenv and open the desktop app on the demo profile
#   make test   set up everything the tests need and run the whole suite
PYTHON ?= python3.11
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip
STAMP   = $(VENV)/.installed
TORCH_VERSION = 2.13.0
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test check lint system-deps venv clean demo-profile eval-dev screenshots package package-check

run: $(STAMP) system-deps-run
	$(VENV)/bin/focusdesk demo

test: system-deps $(STAMP)
	$(PY) -m ruff check focusdesk tests scripts
	$(PY) -m ruff format --check focusdesk tests scripts
	$(VENV)/bin/lint-imports
	$(PY) -m mypy focusdesk
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

venv: $(STAMP)

# torch is pinned here, before anything that depends on it, so pip never reaches for the
# newest (CUDA, several GB) build where a local wheel of $(TORCH_VERSION) is available.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "torch==$(TORCH_VERSION)"
	$(PIP) install --quiet -e ".[dev]"
	touch $(STAMP)

# Debian packages: Qt's xcb runtime libraries and fonts (the app); for the tests also
# xvfb (screenshots) and a real IMAP server (dovecot-imapd, openssl for its certificate).
system-deps-run:
	@if command -v apt-get >/dev/null && ! dpkg -s libxcb-cursor0 fonts-dejavu-core >/dev/null 2>&1; then \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends \
	    fonts-dejavu-core libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
	    libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xfixes0 libxcb-sync1 \
	    libxcb-xkb1 libxcb-shm0 libxcb-util1 libx11-xcb1 libxkbcommon-x11-0 libegl1 libgl1 \
	    libfontconfig1 libdbus-1-3 libglib2.0-0 >/dev/null; fi

system-deps:
	@if command -v apt-get >/dev/null && ! dpkg -s xvfb fonts-dejavu-core libegl1 libxkbcommon-x11-0 dovecot-imapd openssl desktop-file-utils appstream binutils >/dev/null 2>&1; then \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends \
	    desktop-file-utils appstream binutils \
	    dovecot-imapd openssl xvfb xauth fonts-dejavu-core libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \
	    libxcb-image0 libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xfixes0 \
	    libxcb-sync1 libxcb-xkb1 libxcb-shm0 libxcb-util1 libx11-xcb1 libxkbcommon-x11-0 \
	    libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0 >/dev/null; fi

# Ranking quality (BM25, cosine, attention, after votes) and ingest throughput on the
# newsgroups development set.
DEV ?= ../shared/data/newsgroups-dev
eval-dev: $(STAMP)
	mkdir -p bench-results
	$(VENV)/bin/focusdesk bench quality --mbox $(DEV)/inbox.mbox --labels $(DEV)/labels.tsv \
	  --goals $(DEV)/goals.json --votes 0,10,20,50 --json bench-results/eval-dev.json --png bench-results/eval-dev.png

screenshots: $(STAMP) system-deps
	xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) scripts/screenshots.py

# The one-folder PyInstaller bundle (packaging/focusdesk.spec) in dist/focusdesk/; PyInstaller
# comes from the `packaging` extra. package-check runs the bundle's smoke test under Xvfb
# (doctor, a read-only profile, the first window and its screenshot, a second instance).
package: $(STAMP) system-deps
	$(PIP) install --quiet -e ".[packaging]"
	$(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN packaging/focusdesk.spec

package-check: package
	xvfb-run -a -s "-screen 0 1280x800x24" $(PY) packaging/smoke_test.py dist/focusdesk

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
