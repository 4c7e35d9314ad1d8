# The book's two set-up commands are `make book` and `make test`; both create .venv on demand.
PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
JB      := $(BIN)/jupyter-book
JBFLAGS := -W -n --keep-going

.PHONY: help venv book test unit nbval student student-check bench clean

help:
	@echo "make book     build the HTML book into _build/html (creates .venv if needed)"
	@echo "make test     unit tests, nbval over every chapter, the book build, the student edition"
	@echo "make student  student notebooks and HTML book without solutions, in _build/student"
	@echo "make bench    time and peak memory of every chapter in quick mode; every twin model against torchvision's"

$(STAMP): requirements.txt code/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

book: $(STAMP)
	$(JB) build . $(JBFLAGS)

# Tests marked slow (they execute a notebook or build a book) run once, in student-check.
# Two workers, one test file each at a time (module fixtures stay in one process), torch on one
# thread per worker so that the two do not fight over the two cores.
unit: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -p no:cacheprovider -m "not slow" -n 2 --dist loadfile tests

# One notebook per worker, two workers; each kernel's torch on one thread.
nbval: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest --nbval --nbval-current-env -p no:cacheprovider -n 2 --dist loadfile chapters

student: $(STAMP)
	$(BIN)/python tools/student_edition.py --out _build/student
	$(JB) build _build/student/book $(JBFLAGS) --path-output _build/student

# The student edition's checks, and nbgrader's own generate_assignment and autograde on every chapter,
# which run each stub and teacher submission: the chapters are split into two nbgrader courses, one per
# worker (loadscope sends each test class to one worker), one thread each; the student edition's tests take a third.
student-check: student
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadscope tests/test_student_edition.py tests/test_nbgrader.py --student-dir _build/student

test: unit nbval book student-check

# Both run even if the first reports a chapter over budget; the target fails if either did.
bench: $(STAMP)
	status=0; $(BIN)/python tools/bench.py chapters || status=1; \
	$(BIN)/python tools/bench_twins.py || status=1; exit $$status

clean:
	rm -rf _build
