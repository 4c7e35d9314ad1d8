#!/usr/bin/env python3
"""The instructors' page, ``chapters/instructors.md``, generated from the book's sources.

For every chapter of ``_toc.yml``, in its order, the page lists every exercise: its number as
the book shows it (sphinx-exercise numbers exercises book-wide, in table-of-contents order),
its label and title (the bold first words), its kind and estimated minutes (from
``tools/exercises.yml``, the one thing here that cannot be read from the chapters), and what
its self-check verifies (the check function's docstring, read from ``cnnzoo.exercises``). It
also says how to build and hand out the student edition, how to run the notebooks through
nbgrader as ``tests/test_nbgrader.py`` does, and how long each chapter takes: on a CPU from
``tools/bench_results.json`` (written by ``python tools/bench.py chapters --json ...``; "not
measured yet" without it) and on a GPU from the README's full-mode table.

Usage:
    python tools/instructors.py            # print the page
    python tools/instructors.py --check    # exit 1 if chapters/instructors.md is out of date
    python tools/instructors.py --write    # rewrite chapters/instructors.md
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from student_edition import directives, is_check_cell, parse_exercises, toc_files

REPO_ROOT = Path(__file__).resolve().parents[1]
PAGE = Path("chapters/instructors.md")
DATA = Path("tools/exercises.yml")
BENCH = Path("tools/bench_results.json")
KINDS = ("concept", "computation", "code")
#: A check cell's call of a self-check: ``exercises.check_<name>(``.
CHECK_CALL_RE = re.compile(r"\bexercises\.(check_\w+)\s*\(")
#: An exercise's title: its bold first words.
TITLE_RE = re.compile(r"^\*\*(?P<title>.+?)\*\*")
DISCUSSION = "discussion: no self-check; the solution is folded in the book"


@dataclass
class ExerciseEntry:
    """One exercise of the book, as the instructors' page lists it."""

    chapter: str  # the toc entry, e.g. "chapters/lenet"
    number: int | None  # as the book shows it; None for a :nonumber: exercise
    label: str
    title: str
    discussion: bool
    checks: list[str]  # the names of the self-checks its check cells call
    points: int  # nbgrader points of its check cells


def chapter_title(path: Path) -> str:
    """The first ``# `` heading of a notebook or Markdown page, or its file name."""
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    match = re.search(r"^# (.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else path.stem


def toc_pages(root: Path) -> list[tuple[str, Path]]:
    """Every page of ``root/_toc.yml`` that exists, in order: (toc entry, file)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    pages = []
    for entry in toc_files(toc):
        candidates = [root / entry] if Path(entry).suffix else [root / f"{entry}{s}" for s in (".ipynb", ".md")]
        found = next((p for p in candidates if p.exists()), None)
        if found is not None:
            pages.append((str(Path(entry).with_suffix("")), found))
    return pages


def _exercise_options(markdown: str) -> list[dict[str, str]]:
    """The options of every exercise directive of a Markdown text, in order."""
    return [d.options for d in directives(markdown) if d.name in ("exercise", "exercise-start")]


def book_exercises(root: Path) -> list[ExerciseEntry]:
    """Every exercise of the book in table-of-contents order, numbered as sphinx-exercise numbers them.

    Raises:
        ValueError: an exercise without a ``:label:``, or a label used twice.
    """
    found: list[ExerciseEntry] = []
    number = 0
    for entry, path in toc_pages(root):
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            exercises = parse_exercises(nb, str(path.relative_to(root)))
            options = [o for c in nb.cells if c.cell_type == "markdown" for o in _exercise_options(c.source)]
        else:
            nb, exercises = None, []
            options = _exercise_options(path.read_text(encoding="utf-8"))
        by_label = {o.get("label"): o for o in options}
        for opts in options:  # a Markdown page's exercises are numbered too, though it has no checks
            if "nonumber" not in opts:
                number += 1
            opts["_number"] = str(number) if "nonumber" not in opts else ""
            if "label" not in opts:
                raise ValueError(f"{path.relative_to(root)}: an exercise without a :label: (the instructors' page keys on it)")
        for ex in exercises:
            opts = by_label[ex.label]
            match = TITLE_RE.match(ex.text)
            checks = [name for i in ex.check_cells for name in CHECK_CALL_RE.findall(nb.cells[i].source)]
            points = sum(int(nb.cells[i].metadata.get("nbgrader", {}).get("points", 0)) for i in ex.check_cells
                         if is_check_cell(nb.cells[i]))
            found.append(ExerciseEntry(
                chapter=entry,
                number=int(opts["_number"]) if opts["_number"] else None,
                label=ex.label,
                title=match["title"].strip().rstrip(".") if match else ex.label,
                discussion="discussion" in ex.classes,
                checks=checks,
                points=points,
            ))
    labels = [e.label for e in found]
    doubled = sorted({label for label in labels if labels.count(label) > 1})
    if doubled:
        raise ValueError(f"exercise labels used more than once: {', '.join(doubled)}")
    return found


def load_data(path: Path) -> dict[str, dict[str, object]]:
    """The kind and minutes of each exercise, from ``tools/exercises.yml``.

    Raises:
        ValueError: the file is not a mapping of label to ``{kind, minutes}``, a kind is not one
            of ``KINDS``, or minutes are not a positive whole number.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of exercise label to {{kind, minutes}}, got {type(data).__name__}")
    for label, value in data.items():
        if not isinstance(value, dict) or set(value) != {"kind", "minutes"}:
            raise ValueError(f"{path}: {label}: expected {{kind: ..., minutes: ...}}, got {value!r}")
        if value["kind"] not in KINDS:
            raise ValueError(f"{path}: {label}: kind must be one of {', '.join(KINDS)}, got {value['kind']!r}")
        minutes = value["minutes"]
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
            raise ValueError(f"{path}: {label}: minutes must be a positive whole number, got {minutes!r}")
    return data


def reconcile(exercises: list[ExerciseEntry], data: dict[str, dict[str, object]], data_path: Path = DATA) -> None:
    """Check that the data file and the notebooks name the same exercises, with kinds that fit.

    Raises:
        ValueError: naming every exercise missing from the data file, every label of the data
            file that no notebook has, and every kind that contradicts the exercise (a
            discussion must be a concept; an exercise with a self-check must not be).
    """
    labels = {e.label: e for e in exercises}
    problems = [f"  {e.label} ({e.chapter}) is missing from {data_path}: add it with its kind and minutes"
                for e in exercises if e.label not in data]
    problems += [f"  {label} is in {data_path} but in no notebook of _toc.yml: remove it, or fix its label"
                 for label in data if label not in labels]
    for label, e in labels.items():
        kind = data.get(label, {}).get("kind")
        if kind is None:
            continue
        if e.discussion and kind != "concept":
            problems.append(f"  {label}: a discussion exercise (:class: discussion) must be a concept, got {kind}")
        if e.checks and kind == "concept":
            problems.append(f"  {label}: has a self-check ({', '.join(e.checks)}), so it is not a concept")
    if problems:
        raise ValueError("the exercises of the notebooks and of the data file differ:\n" + "\n".join(problems))


def check_description(name: str) -> str:
    """What the self-check ``cnnzoo.exercises.<name>`` verifies, from its docstring.

    The summary line (less its ``Exercise:`` prefix) and the paragraphs before ``Raises:``,
    then what makes it fail (its ``Raises: CheckFailed`` text), on one line.

    Raises:
        ValueError: ``cnnzoo.exercises`` has no function of that name, or it has no docstring.
    """
    from cnnzoo import exercises

    function = getattr(exercises, name, None)
    doc = inspect.getdoc(function) if callable(function) else None
    if not doc:
        raise ValueError(f"cnnzoo.exercises.{name}: expected a self-check with a docstring, got {function!r}")
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", doc) if p.strip()]
    described, fails = [], ""
    for paragraph in paragraphs:
        if paragraph.startswith("Raises:"):
            fails = re.sub(r"^Raises:\s*(CheckFailed:\s*)?", "", paragraph)
            break
        described.append(paragraph)
    text = re.sub(r"^Exercise:\s*", "", " ".join(described))
    if fails:
        text += f" Fails: {fails}"
    return text


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def exercise_tables(root: Path, exercises: list[ExerciseEntry], data: dict[str, dict[str, object]]) -> str:
    """The per-chapter tables of exercises."""
    out: list[str] = []
    pages = dict(toc_pages(root))
    by_chapter: dict[str, list[ExerciseEntry]] = {}
    for e in exercises:
        by_chapter.setdefault(e.chapter, []).append(e)
    for chapter, entries in by_chapter.items():
        minutes = sum(int(data[e.label]["minutes"]) for e in entries)
        points = sum(e.points for e in entries)
        title = chapter_title(pages[chapter])
        out.append(f"### {title}\n")
        out.append(f"`{pages[chapter].relative_to(root).as_posix()}`: {len(entries)} exercises, about {minutes} minutes; "
                   f"{points} nbgrader point{'s' if points != 1 else ''} (one per self-check).\n")
        out.append("| # | exercise (label) | kind | minutes | self-check |")
        out.append("|---|---|---|---|---|")
        notes = []
        for e in entries:
            number = str(e.number) if e.number is not None else "–"
            checks = ", ".join(f"`{name}`" for name in e.checks) or ("none (discussion)" if e.discussion else "none")
            out.append(f"| {number} | {{ref}}`{_cell(e.title)} <{e.label}>` (`{e.label}`) | {data[e.label]['kind']} "
                       f"| {data[e.label]['minutes']} | {checks} |")
            if e.checks:
                verifies = " ".join(f"`{name}`: {check_description(name)}" for name in e.checks)
            elif e.discussion:
                verifies = DISCUSSION
            else:
                verifies = "no self-check"
            notes.append(f"- **{number}** (`{e.label}`). {verifies}")
        out.append("\nWhat each check verifies:\n")
        out.extend(notes)
        out.append("")
    return "\n".join(out)


def kind_summary(exercises: list[ExerciseEntry], data: dict[str, dict[str, object]]) -> str:
    """One sentence: how many exercises of each kind, and their minutes in all."""
    counts = {kind: sum(1 for e in exercises if data[e.label]["kind"] == kind) for kind in KINDS}
    minutes = sum(int(data[e.label]["minutes"]) for e in exercises)
    chapters = len({e.chapter for e in exercises})
    parts = ", ".join(f"{counts[k]} {k}" for k in KINDS)
    return (f"The book has {len(exercises)} exercises in {chapters} chapters ({parts}), "
            f"about {minutes} minutes ({minutes / 60:.1f} hours) in all by the estimates below.")


def cpu_times(root: Path, bench_path: Path) -> str:
    """The per-chapter CPU table from the bench results, or a "not measured yet" note.

    Raises:
        ValueError: the results file is not what ``tools/bench.py --json`` writes.
    """
    how = ("`python tools/bench.py chapters --json tools/bench_results.json` on an idle machine, then "
           "`python tools/instructors.py --write`")
    notebooks = [(entry, path) for entry, path in toc_pages(root) if path.suffix == ".ipynb"]
    if not bench_path.exists():
        return (f"Not measured yet: `{bench_path.relative_to(root).as_posix() if bench_path.is_relative_to(root) else bench_path}` "
                f"does not exist. To measure, run {how}.\n")
    try:
        doc = json.loads(bench_path.read_text(encoding="utf-8"))
        rows = {row["notebook"]: row for row in doc["chapters"]}
        meta = (doc["measured"], doc["cpu_count"], doc["omp_num_threads"], doc["load_average_before"], doc["torch"])
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"{bench_path}: expected what tools/bench.py --json writes, got an error: {error!r}") from error
    measured, cpus, threads, load, torch_version = meta
    out = [f"Measured by `tools/bench.py` on {measured}: {cpus} CPU cores, OMP_NUM_THREADS "
           f"{threads if threads else 'unset'}, load average {load[0]} before the first chapter, torch "
           f"{torch_version}; each chapter top to bottom in quick mode in a fresh kernel (kernel start "
           f"included), and its kernel's peak memory. To measure again, run {how}.\n",
           "| chapter | seconds | peak memory (MiB) |", "|---|---|---|"]
    for entry, path in notebooks:
        row = rows.get(path.relative_to(root).as_posix())
        if row is None:
            out.append(f"| {chapter_title(path)} | not measured yet | not measured yet |")
        elif row.get("error"):
            out.append(f"| {chapter_title(path)} | failed: {_cell(str(row['error']))} | |")
        else:
            out.append(f"| {chapter_title(path)} | {row['seconds']} | {row['peak_mib']} |")
    return "\n".join(out) + "\n"


def readme_gpu_measurement(readme: Path) -> str:
    """The README's full-mode measurement (its paragraph, table and quick-mode sentence), quoted.

    Raises:
        ValueError: the README no longer has the paragraph "What full mode costs" and its table.
    """
    text = readme.read_text(encoding="utf-8")
    match = re.search(r"^(What full mode costs(?:[^\n]+\n)+)\n((?:\|[^\n]*\n)+)\n((?:[^\n]+\n?)+)", text, re.MULTILINE)
    if not match:
        raise ValueError(f"{readme}: expected the paragraph 'What full mode costs ...' followed by its table "
                         "(the instructors' page quotes it); update tools/instructors.py if it moved")
    paragraph, table, after = (group.rstrip("\n") for group in match.groups())
    quoted = [f"> {line}" if line else ">" for line in [*paragraph.splitlines(), "", *table.splitlines(), "", *after.splitlines()]]
    return "\n".join(quoted) + "\n"


TEMPLATE = """\
# For instructors

<!-- Generated by tools/instructors.py from the chapters, tools/exercises.yml, tools/bench_results.json
and README.md: do not edit by hand. After a change: python tools/instructors.py --write -->

This page is for teachers who use the book in a course: what each chapter's exercises ask and how
they are checked, how to hand out the notebooks without their solutions, how to grade them with
nbgrader, and how long the chapters take to run.

## The exercises

{summary} Each chapter ends with three or four exercises of three kinds:

- **concept**: a discussion ("Think about it"); there is nothing to run, and the book's folded
  solution is a model answer to discuss in class.
- **computation**: the answer is a number, or a short function of a few integers (a count of
  parameters, an output size, a formula) that the self-check evaluates on several cases.
- **code**: the student writes code that works on tensors or modules (a forward pass, a network,
  a layer made from others), and the self-check runs it on real layers and inputs.

Every computation and code exercise ends with a locked self-check cell that calls
`exercises.check_...` from the book's package (`code/cnnzoo/exercises/<chapter>.py`): it raises
on a wrong answer, saying what is wrong without giving the answer, and prints a "✓" line on a
right one. What each check verifies, below each table, is that function's own documentation. The
*minutes* are the authors' estimates for a student who has read the chapter, not measurements;
the kinds and minutes live in `tools/exercises.yml`. Numbers are the book's exercise numbers.

{tables}
## The student edition

```bash
make student
```

runs `tools/student_edition.py --out _build/student`, which writes, with nbgrader's own
preprocessors (the same ones `nbgrader generate_assignment` runs):

- `_build/student/notebooks/<chapter>.ipynb`: the notebooks to hand out. Each answer cell's
  solution is replaced by nbgrader's stub (`# YOUR CODE HERE` / `raise NotImplementedError()`),
  each written solution by "YOUR ANSWER HERE", the self-check cells are locked, and every output
  is cleared;
- `_build/student/book/`: the book's source with those notebooks (ordinary cells keep their
  outputs; the written solutions are left out), which `make student` then builds into
  `_build/student/_build/html/`: the student book, the same pages without the solutions and
  without the Colab launch buttons (they would open the teacher notebooks).

Hand out the notebooks of `_build/student/notebooks/`, and publish or share the HTML of
`_build/student/_build/html/` if students should read the chapters without the solutions. The
chapters need the package: students install it with `pip install ./code` from the repository,
and in Colab each notebook's first cell installs it. After editing a chapter's exercises, run
`python tools/student_edition.py --mark` (it puts the chapter in nbgrader's form; `make test`
fails until it is). `make test` checks that the student edition holds no solution text and that
every stub fails its self-check.

## Grading with nbgrader

`tests/test_nbgrader.py` runs nbgrader 0.9 on every chapter in `make test`; these are its steps.
It verifies exactly what is said below, and nothing more:

1. A course folder holding `nbgrader_config.py` with `c.CourseDirectory.root` (the folder),
   `c.CourseDirectory.course_id`, `c.CourseDirectory.db_url` (an SQLite gradebook in the folder)
   and `c.Execute.timeout = 300`.
2. For each chapter, `source/<assignment>/<chapter>.ipynb` (the test names the assignment
   `exercises` and puts every chapter of one course in it): not the whole chapter but its
   setup cell, its imports cell and its exercise cells, the cut that
   `tools/student_edition.py`'s `exercise_part` makes, so that autograding does not re-run the
   chapter's experiments:

   ```python
   import sys; sys.path.insert(0, "tools")
   import nbformat
   from student_edition import exercise_part
   nb = nbformat.read("chapters/lenet.ipynb", as_version=4)
   nbformat.write(exercise_part(nb)[0], "source/exercises/lenet.ipynb")
   ```

   The chapters are stored in nbgrader's form already (answer cells, 0-point written answers,
   1-point locked check cells), so no nbgrader "create assignment" step is needed.
3. `nbgrader generate_assignment exercises --force`, run in the course folder with the virtual
   environment's `bin/` first on `PATH` (nbgrader runs `alembic` from it). It writes
   `release/exercises/<chapter>.ipynb`, which the test checks holds no solution text and is,
   cell for cell (checksums and locks included), the notebook `tools/student_edition.py` makes of
   the same cut. This is what students get.
4. Submissions go to `submitted/<student>/exercises/<chapter>.ipynb`. The test copies them there
   itself; it does not use nbgrader's exchange (`release_assignment`, `fetch_assignment`,
   `submit`, `collect`), so those steps are not tested here.
5. `nbgrader autograde exercises --force`, which runs each submission and scores its check cells.

What the test verifies of the scores: the released notebook submitted unchanged (every stub left
in) scores **0** of the chapter's points, every check cell failing with a "✗" message and no cell
raising anything but a stub's `NotImplementedError`; the teacher's cut (the solutions) scores
**full marks**. A chapter's points are its number of self-checks (table above). The written
answers of the concept exercises are nbgrader answer cells worth 0 points: read them by hand
(nbgrader's formgrader); the test does not grade them, nor does it test feedback, late
submissions or partial answers. The README's test-budget table records how long these runs take.

## How long each chapter takes

### On a CPU (quick mode)

{cpu}
### On a GPU

Only LeNet-5 has been timed on a GPU, in full mode; the README records it:

{gpu}
The other chapters' times on a GPU are not measured yet, in quick mode or in full mode.
"""


def render(root: Path = REPO_ROOT, data_path: Path | None = None, bench_path: Path | None = None) -> str:
    """The instructors' page for the book at ``root``.

    Raises:
        ValueError: the data file and the notebooks disagree (see :func:`reconcile`), or a
            source the page reads is malformed.
    """
    root = Path(root)
    data_path = data_path or root / DATA
    exercises = book_exercises(root)
    data = load_data(data_path)
    reconcile(exercises, data, data_path)
    return TEMPLATE.format(
        summary=kind_summary(exercises, data),
        tables=exercise_tables(root, exercises, data),
        cpu=cpu_times(root, bench_path or root / BENCH),
        gpu=readme_gpu_measurement(root / "README.md"),
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the book's root folder (default: the repository)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if the page is out of date")
    mode.add_argument("--write", action="store_true", help="rewrite the page")
    args = parser.parse_args(argv)
    try:
        page = render(args.root)
    except ValueError as error:
        print(f"instructors: {error}", file=sys.stderr)
        return 1
    path = args.root / PAGE
    if args.write:
        path.write_text(page, encoding="utf-8")
        print(f"wrote {path}")
    elif args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != page:
            print(f"{path} is out of date; fix with: python tools/instructors.py --write")
            return 1
    else:
        print(page, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
