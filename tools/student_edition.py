#!/usr/bin/env python3
"""Build the student edition (the chapters without their solutions), and mark chapters for nbgrader.

The teacher edition (``chapters/*.ipynb``) marks exercises with sphinx-exercise's gated
directives and nbgrader's cell metadata:

* an exercise: ``{exercise-start}`` ... ``{exercise-end}`` in markdown cells (kept);
* its solution: from a markdown ``{solution-start} <label>`` to a markdown
  ``{solution-end}``. In nbgrader form (``--mark``) every markdown cell of a solution holds
  solution text only and is an nbgrader *manually graded answer* (``solution`` and
  ``grade``, 0 points), and every code cell of a solution is an *answer cell* (nbgrader
  ``solution: true``) whose solution code lies between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION``;
* a *check cell* after the solution (nbgrader ``grade: true``, ``locked``, 1 point) that
  calls a self-check helper, which raises on a wrong answer.

``--mark`` brings chapters into that form and is idempotent: it splits a markdown cell
where a solution block starts or ends, gives solution cells their metadata and a unique
``grade_id``, and wraps a demonstration code cell inside a solution in ``BEGIN``/``END
SOLUTION`` (it becomes one more answer cell). ``--check-marks`` lists the chapters that
``--mark`` would change.

The student edition is what nbgrader's own ``generate_assignment`` preprocessors
(``LockCells``, ``ClearSolutions``, ``ClearOutput``, ``ComputeChecksums``, ...) make of the
marked chapter, so ``make student`` and ``nbgrader generate_assignment`` hand out the same
notebook. This tool writes, under ``OUT``:

``notebooks/<chapter>.ipynb``
    the hand-out notebooks: each answer cell's solution regions replaced by nbgrader's
    stub (``# YOUR CODE HERE`` / ``raise NotImplementedError()``), each markdown solution
    cell by ``YOUR ANSWER HERE``, every output cleared.
``book/``
    a copy of the book source (``_config.yml`` titled "... (student edition)" and with
    execution off, ``_toc.yml``, bibliographies, static files, ``chapters/``) whose
    notebooks are the same minus the ``YOUR ANSWER HERE`` cells, with the outputs of
    ordinary cells kept; only the stubbed answer cells and the check cells lose theirs.
    Build it with ``jupyter-book build OUT/book --path-output OUT``.

Usage:
    python tools/student_edition.py --out _build/student
    python tools/student_edition.py --mark [NOTEBOOK ...]          # default: every chapter
    python tools/student_edition.py --check-marks [NOTEBOOK ...]   # exit 1 if --mark would change one
"""

from __future__ import annotations

import argparse
import copy
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

from setup_cell import chapter_notebooks, find_notebooks

REPO_ROOT = Path(__file__).resolve().parents[1]

#: nbgrader's code stub, written at the indentation of the ``BEGIN SOLUTION`` marker.
STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError()")
#: nbgrader's stub for a solution region in a markdown cell.
MARKDOWN_STUB = "YOUR ANSWER HERE"

BEGIN_MARKER = "BEGIN SOLUTION"
END_MARKER = "END SOLUTION"

#: An opening code/directive fence: backticks or (MyST colon_fence) colons, then an info string.
FENCE_OPEN_RE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|:{3,})(?P<info>.*)$")
#: A directive's info string: ``{name} argument``.
DIRECTIVE_RE = re.compile(r"^\{(?P<name>[\w:.-]+)\}\s*(?P<arg>.*)$")
#: A directive option line such as ``:label: lenet-ex-1``.
OPTION_RE = re.compile(r"^\s*:(?P<key>[\w-]+):\s*(?P<value>.*)$")

#: Directives whose whole block is solution text.
SOLUTION_DIRECTIVES = {"solution"}
#: Folders and files never copied into the student book.
SKIP_NAMES = {".ipynb_checkpoints", "_build", "__pycache__", ".DS_Store", "data", ".git"}
#: Top-level folders copied into the student book when they exist.
STATIC_DIRS = ("_static", "_templates", "_ext", "images", "figures", "assets", "img")


class StudentEditionError(ValueError):
    """A notebook breaks the exercise conventions, so its solutions cannot be removed safely."""


# ---------------------------------------------------------------------------------------
# Reading the conventions


@dataclass
class Directive:
    """A top-level fenced directive in a markdown cell (lines are 0-based, ``end`` inclusive)."""

    name: str
    arg: str
    options: dict[str, str]
    start: int
    end: int


@dataclass
class Exercise:
    """One exercise of a teacher notebook, as cell indices."""

    label: str
    start_cell: int
    classes: list[str] = field(default_factory=list)
    end_cell: int | None = None
    solution_start: int | None = None
    solution_end: int | None = None
    answer_cells: list[int] = field(default_factory=list)
    demo_cells: list[int] = field(default_factory=list)
    check_cells: list[int] = field(default_factory=list)
    text: str = ""


def directives(markdown: str) -> list[Directive]:
    """The top-level fenced blocks of a MyST markdown text that are directives.

    A block opened with N backticks (or colons) closes at a line of at least N of the same
    character and nothing else; blocks nested inside it are not reported. An unclosed
    block runs to the end of the text, as in CommonMark.
    """
    lines = markdown.splitlines()
    found: list[Directive] = []
    i = 0
    while i < len(lines):
        m = FENCE_OPEN_RE.match(lines[i])
        if not m:
            i += 1
            continue
        fence = m["fence"]
        close_re = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = next((j for j in range(i + 1, len(lines)) if close_re.match(lines[j])), len(lines) - 1)
        d = DIRECTIVE_RE.match(m["info"].strip())
        if d:
            options = {}
            for line in lines[i + 1 : end]:
                o = OPTION_RE.match(line)
                if not o:
                    break
                options[o["key"]] = o["value"].strip()
            found.append(Directive(d["name"], d["arg"].strip(), options, i, end))
        i = end + 1
    return found


def is_answer_cell(cell: nbformat.NotebookNode) -> bool:
    """An nbgrader answer cell: ``solution: true`` metadata or a ``BEGIN SOLUTION`` marker."""
    if cell.cell_type != "code":
        return False
    return bool(cell.metadata.get("nbgrader", {}).get("solution")) or BEGIN_MARKER in cell.source


def is_check_cell(cell: nbformat.NotebookNode) -> bool:
    """An nbgrader autograded test cell (``grade: true`` and not a solution)."""
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def solution_regions(source: str, where: str = "cell") -> list[tuple[int, int]]:
    """The ``(begin, end)`` line indices of every ``BEGIN``/``END SOLUTION`` pair.

    Raises:
        StudentEditionError: on an unmatched or nested marker.
    """
    regions: list[tuple[int, int]] = []
    begin: int | None = None
    for i, line in enumerate(source.splitlines()):
        if BEGIN_MARKER in line:
            if begin is not None:
                raise StudentEditionError(f"{where}: nested '{BEGIN_MARKER}' at line {i + 1}")
            begin = i
        elif END_MARKER in line:
            if begin is None:
                raise StudentEditionError(f"{where}: '{END_MARKER}' at line {i + 1} without a '{BEGIN_MARKER}'")
            regions.append((begin, i))
            begin = None
    if begin is not None:
        raise StudentEditionError(f"{where}: '{BEGIN_MARKER}' at line {begin + 1} has no matching '{END_MARKER}'")
    return regions


def parse_exercises(nb: nbformat.NotebookNode, where: str = "notebook") -> list[Exercise]:
    """The exercises of a teacher notebook with their solution, answer, demo and check cells.

    A check cell belongs to the exercise whose solution it follows, up to the next
    exercise. Raises StudentEditionError on a solution-start without a solution-end and
    vice versa (the same rules as :func:`transform_notebook`).
    """
    exercises: list[Exercise] = []
    by_label: dict[str, Exercise] = {}
    current: Exercise | None = None  # the exercise whose solution block is open
    last: Exercise | None = None  # the latest exercise, owner of the check cells that follow
    in_exercise: Exercise | None = None
    text_lines: list[str] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            lines = cell.source.splitlines()
            blocks = directives(cell.source)
            cursor = 0
            for block in blocks:
                if in_exercise is not None:
                    text_lines.extend(lines[cursor : block.start])
                cursor = block.end + 1
                if block.name in ("exercise-start", "exercise"):
                    label = block.options.get("label", f"{where}:cell{index}")
                    ex = Exercise(label=label, start_cell=index, classes=block.options.get("class", "").split())
                    exercises.append(ex)
                    by_label[label] = ex
                    last = ex
                    if block.name == "exercise":
                        ex.end_cell = index
                        ex.text = "\n".join(lines[block.start + 1 + len(block.options) : block.end]).strip()
                    else:
                        in_exercise, text_lines = ex, []
                elif block.name == "exercise-end" and in_exercise is not None:
                    in_exercise.end_cell = index
                    in_exercise.text = "\n".join(text_lines).strip()
                    in_exercise = None
                elif block.name in ("solution-start", "solution"):
                    if current is not None:
                        raise StudentEditionError(
                            f"{where}, cell {index}: solution for {block.arg!r} starts inside the "
                            f"solution of {current.label!r}, which has no solution-end"
                        )
                    ex = by_label.get(block.arg) or last
                    if ex is None:
                        raise StudentEditionError(f"{where}, cell {index}: solution {block.arg!r} before any exercise")
                    ex.solution_start = index
                    if block.name == "solution":
                        ex.solution_end = index
                    else:
                        current = ex
                elif block.name == "solution-end":
                    if current is None:
                        raise StudentEditionError(f"{where}, cell {index}: solution-end without a solution-start")
                    current.solution_end = index
                    current = None
            if in_exercise is not None:
                text_lines.extend(lines[cursor:])
        elif cell.cell_type == "code":
            if current is not None:
                (current.answer_cells if is_answer_cell(cell) else current.demo_cells).append(index)
            elif is_check_cell(cell) and last is not None:
                last.check_cells.append(index)
    if current is not None:
        raise StudentEditionError(
            f"{where}: the solution-start of {current.label!r} (cell {current.solution_start}) "
            "has no matching solution-end"
        )
    return exercises


def exercise_part(nb: nbformat.NotebookNode, to_end: bool = False) -> tuple[nbformat.NotebookNode, list[int]]:
    """The setup cell, the imports cell and the exercises: what a chapter's exercises need to run.

    The chapter contract puts the setup cell first and the imports in the next code cell, and
    makes every exercise runnable from those two alone. Returns the cut notebook and the indices
    of the cells kept.

    Args:
        nb: a teacher notebook, or a student notebook made from one (the exercise-start
            directives are in both).
        to_end: keep every cell after the first exercise to the end of the notebook (the
            closing cells too), instead of stopping at the last exercise's last cell.

    Raises:
        ValueError: the notebook has no exercise.
    """
    exercises = parse_exercises(nb)
    if not exercises:
        raise ValueError("the notebook has no exercise")
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    first = min(ex.start_cell for ex in exercises)
    last = len(nb.cells) - 1 if to_end else max(
        max([ex.end_cell or 0, ex.solution_end or 0, *ex.check_cells]) for ex in exercises
    )
    keep = sorted(set(code[:2]) | set(range(first, last + 1)))
    out = nbformat.v4.new_notebook(metadata=nb.metadata)
    out.nbformat_minor = nb.nbformat_minor
    out.cells = [nb.cells[i] for i in keep]
    return out, keep


def solution_lines(nb: nbformat.NotebookNode, min_length: int = 13) -> list[str]:
    """Stripped lines that only a solution contains, for leak checks.

    Every non-blank line inside a ``BEGIN``/``END SOLUTION`` region of any cell and
    every line of a demonstration cell, stripped, at least ``min_length`` characters long
    and not a solution marker.
    """
    found: list[str] = []
    for cell in nb.cells:
        lines = cell.source.splitlines()
        for begin, end in solution_regions(cell.source) if BEGIN_MARKER in cell.source else []:
            found.extend(line.strip() for line in lines[begin + 1 : end])
    for ex in parse_exercises(nb):
        for index in ex.demo_cells:
            found.extend(line.strip() for line in nb.cells[index].source.splitlines())
    return [line for line in dict.fromkeys(found) if len(line) >= min_length and "SOLUTION" not in line]


# ---------------------------------------------------------------------------------------
# The transform


def strip_solution_markdown(text: str, in_solution: bool, where: str) -> tuple[str, bool]:
    """Remove the solution parts of one markdown text.

    Args:
        text: the markdown.
        in_solution: whether a solution block is open when the text begins.
        where: a location for error messages.

    Returns:
        The remaining text, and whether a solution block is still open at its end.
    """
    lines = text.splitlines()
    keep: list[str] = []
    cursor = 0
    for block in directives(text):
        if not in_solution:
            keep.extend(lines[cursor : block.start])
        cursor = block.end + 1
        if block.name == "solution-start":
            if in_solution:
                raise StudentEditionError(f"{where}: solution-start {block.arg!r} inside another solution block")
            in_solution = True
        elif block.name == "solution-end":
            if not in_solution:
                raise StudentEditionError(f"{where}: solution-end without a solution-start")
            in_solution = False
        elif block.name in SOLUTION_DIRECTIVES:
            pass
        elif not in_solution:
            keep.extend(lines[block.start : block.end + 1])
    if not in_solution:
        keep.extend(lines[cursor:])
    return "\n".join(keep).strip("\n"), in_solution


# ---------------------------------------------------------------------------------------
# nbgrader form: --mark


#: nbgrader metadata of a markdown solution cell: a manually graded answer worth 0 points
#: (nbgrader requires markdown solution cells to be grade cells).
SOLUTION_MARKDOWN_META = {"grade": True, "solution": True, "locked": False, "points": 0, "schema_version": 3}
#: nbgrader metadata of an answer (code solution) cell.
ANSWER_META = {"grade": False, "solution": True, "locked": False, "schema_version": 3}
#: nbgrader metadata of a check cell: an autograded test worth 1 point, locked.
CHECK_META = {"grade": True, "solution": False, "locked": True, "points": 1, "schema_version": 3}
#: A cell id's allowed characters (nbformat 4.5).
CELL_ID_RE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass
class Segment:
    """A run of lines of one markdown cell: public text, or text of the solution of ``label``."""

    text: str
    solution: bool
    label: str | None = None


def split_solution_markdown(
    text: str, in_solution: bool, label: str | None, where: str
) -> tuple[list[Segment], bool, str | None]:
    """Cut a markdown text where solution blocks start and end.

    A solution segment runs from a ``{solution-start}`` directive (or a whole ``{solution}``
    directive) to the end of its ``{solution-end}`` directive; blank lines at a segment's
    edges are dropped, and so are empty segments.

    Args:
        text: the markdown.
        in_solution: whether a solution block is open when the text begins.
        label: the open solution's label.
        where: a location for error messages.

    Returns:
        The segments in order, whether a solution block is still open at the end, its label.

    Raises:
        StudentEditionError: a solution-start inside a solution, or a solution-end outside one.
    """
    lines = text.splitlines()
    segments: list[Segment] = []
    start = 0

    def close(end: int, solution: bool) -> None:
        chunk = "\n".join(lines[start:end]).strip("\n")
        if chunk.strip():
            segments.append(Segment(chunk, solution, label if solution else None))

    for block in directives(text):
        if block.name == "solution-start":
            if in_solution:
                raise StudentEditionError(f"{where}: solution-start {block.arg!r} inside another solution block")
            close(block.start, False)
            start, in_solution, label = block.start, True, block.arg or label
        elif block.name == "solution-end":
            if not in_solution:
                raise StudentEditionError(f"{where}: solution-end without a solution-start")
            close(block.end + 1, True)
            start, in_solution = block.end + 1, False
        elif block.name in SOLUTION_DIRECTIVES and not in_solution:
            close(block.start, False)
            start, label = block.start, block.arg or label
            close(block.end + 1, True)
            start = block.end + 1
    close(len(lines), in_solution)
    return segments, in_solution, label


def is_solution_markdown(cell: nbformat.NotebookNode) -> bool:
    """A markdown cell that nbgrader clears: ``solution: true`` in its nbgrader metadata."""
    return cell.cell_type == "markdown" and bool(cell.metadata.get("nbgrader", {}).get("solution"))


def _set_meta(cell: nbformat.NotebookNode, forced: dict, ids: "_Ids", base: str) -> None:
    """Give ``cell`` nbgrader metadata: ``forced``'s flags; its points and grade_id where set,
    else ``forced``'s points and a new grade_id made from ``base``."""
    meta = cell.metadata.setdefault("nbgrader", {})
    for key, value in forced.items():
        if key == "points":
            meta.setdefault(key, value)
        else:
            meta[key] = value
    if not meta.get("grade_id"):
        meta["grade_id"] = ids.grade_id(base)


class _Ids:
    """Unique grade ids and cell ids for the cells that ``mark_notebook`` adds or marks."""

    def __init__(self, nb: nbformat.NotebookNode) -> None:
        self.grade_ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells} - {None, ""}
        self.cell_ids = {c.get("id") for c in nb.cells} - {None}

    def grade_id(self, base: str) -> str:
        return self._unique(base, self.grade_ids)

    def cell_id(self, base: str) -> str:
        return self._unique(base, self.cell_ids)

    @staticmethod
    def _unique(base: str, taken: set[str]) -> str:
        """``base`` made safe, with ``-2``, ``-3``, ... appended until it is not in ``taken``; then taken."""
        base = CELL_ID_RE.sub("-", base)[:56]
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate)
        return candidate


def mark_notebook(nb: nbformat.NotebookNode, where: str = "notebook") -> nbformat.NotebookNode:
    """Return a copy of a teacher notebook in nbgrader form (see the module docstring).

    Idempotent: marking a marked notebook changes nothing. Outputs, execution counts and
    public text are untouched.

    Raises:
        StudentEditionError: unbalanced solution directives, or an answer cell whose
            ``BEGIN``/``END SOLUTION`` markers do not pair up.
    """
    out = copy.deepcopy(nb)
    ids = _Ids(out)
    cells: list[nbformat.NotebookNode] = []
    in_solution, label, last_label = False, None, None
    opened_at = -1
    for index, cell in enumerate(out.cells):
        here = f"{where}, cell {index}"
        if cell.cell_type == "markdown":
            was_open = in_solution
            segments, in_solution, label = split_solution_markdown(cell.source, in_solution, label, here)
            if in_solution and not was_open:
                opened_at = index
            if not segments:
                cells.append(cell)
                continue
            if len(segments) > 1 or cell.source.strip("\n") != segments[0].text:
                cell.source = segments[0].text
            for n, segment in enumerate(segments):
                part = cell if n == 0 else nbformat.v4.new_markdown_cell(segment.text)
                if segment.solution:
                    last_label = segment.label or last_label
                    _set_meta(part, SOLUTION_MARKDOWN_META, ids, f"{segment.label or where}-solution")
                elif is_solution_markdown(part):
                    del part.metadata["nbgrader"]  # public text: nbgrader must not clear it
                if n > 0:
                    if "id" in cell:
                        part["id"] = ids.cell_id(part.metadata.get("nbgrader", {}).get("grade_id") or f"{cell['id']}-{n}")
                    else:
                        part.pop("id", None)
                cells.append(part)
            continue
        if cell.cell_type == "code" and in_solution:
            regions = solution_regions(cell.source, here)
            if not regions and not cell.metadata.get("nbgrader", {}).get("solution"):
                # A demonstration of the solution: it becomes one more answer cell.
                cell.source = f"### {BEGIN_MARKER}\n{cell.source.strip(chr(10))}\n### {END_MARKER}"
            _set_meta(cell, ANSWER_META, ids, f"{label or where}-answer")
        elif cell.cell_type == "code" and is_check_cell(cell):
            _set_meta(cell, CHECK_META, ids, f"{last_label or where}-check")
        elif cell.cell_type != "code" and in_solution:
            raise StudentEditionError(f"{here}: a {cell.cell_type} cell inside a solution block; make it markdown")
        cells.append(cell)
    if in_solution:
        raise StudentEditionError(f"{where}: the solution-start in cell {opened_at} has no matching solution-end")
    out.cells = cells
    return out


# ---------------------------------------------------------------------------------------
# The transform: nbgrader's own preprocessors


def nbgrader_release(nb: nbformat.NotebookNode, clear_outputs: bool = True, where: str = "notebook") -> nbformat.NotebookNode:
    """What ``nbgrader generate_assignment`` makes of a notebook in nbgrader form.

    The preprocessors of nbgrader's ``GenerateAssignment`` in its order, less those that
    need a course: ``IncludeHeaderFooter`` (no header or footer), ``InstantiateTests``
    (no ``AUTOTEST`` cells) and ``SaveCells`` (the gradebook).

    Args:
        nb: the marked teacher notebook (it is not modified).
        clear_outputs: run ``ClearOutput``, as ``generate_assignment`` does.
        where: the notebook's name, for error messages.

    Raises:
        StudentEditionError: nbgrader refused the notebook (its message is included).
    """
    from nbgrader.nbgraderformat import ValidationError
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearMarkScheme,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )

    steps = [LockCells, ClearSolutions, ClearOutput, CheckCellMetadata, ComputeChecksums,
             ClearHiddenTests, ClearMarkScheme, ComputeChecksums, CheckCellMetadata]
    nb = copy.deepcopy(nb)
    resources: dict = {}
    for step in steps:
        if step is ClearOutput and not clear_outputs:
            continue
        try:
            nb, resources = step()(nb, resources)
        except (RuntimeError, ValidationError, ValueError) as error:
            raise StudentEditionError(f"{where}: nbgrader's {step.__name__}: {error}") from error
    return nb


def transform_notebook(nb: nbformat.NotebookNode, keep_outputs: bool, where: str = "notebook") -> nbformat.NotebookNode:
    """Return the student version of a teacher notebook (marked first, in memory).

    Args:
        nb: the teacher notebook.
        keep_outputs: False: the hand-out notebook, exactly what nbgrader releases. True:
            the student book's page: the same, with the outputs of ordinary cells kept,
            the answer and check cells' outputs cleared, and the markdown solution cells
            (``YOUR ANSWER HERE`` for nbgrader) left out.
        where: the notebook's name, for error messages.

    Raises:
        StudentEditionError: unbalanced solution directives or markers, or nbgrader refused it.
    """
    released = nbgrader_release(mark_notebook(nb, where), clear_outputs=not keep_outputs, where=where)
    if not keep_outputs:
        return released
    cells = []
    for cell in released.cells:
        if is_solution_markdown(cell):
            continue
        if cell.cell_type == "code" and (is_answer_cell(cell) or is_check_cell(cell)):
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        cells.append(cell)
    released.cells = cells
    return released


# ---------------------------------------------------------------------------------------
# The edition


def toc_files(toc: object) -> list[str]:
    """Every ``root``/``file`` entry of a parsed ``_toc.yml``."""
    found: list[str] = []
    if isinstance(toc, dict):
        for key, value in toc.items():
            if key in ("root", "file") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(toc_files(value))
    elif isinstance(toc, list):
        for item in toc:
            found.extend(toc_files(item))
    return found


def _config_paths(config: dict) -> list[str]:
    """Local paths that ``_config.yml`` refers to (logo, favicon, bibliographies, static dirs...)."""
    paths: list[object] = [config.get("logo"), (config.get("html") or {}).get("favicon")]
    paths.extend(config.get("bibtex_bibfiles") or [])
    sphinx = config.get("sphinx") or {}
    paths.extend((sphinx.get("local_extensions") or {}).values())
    sphinx_config = sphinx.get("config") or {}
    for key in ("html_static_path", "templates_path", "html_extra_path", "bibtex_bibfiles"):
        value = sphinx_config.get(key) or []
        paths.extend([value] if isinstance(value, str) else value)
    return [str(p) for p in paths if isinstance(p, str) and p and "://" not in p]


def _copy(src: Path, dst: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns(*SKIP_NAMES, "*.pyc"), dirs_exist_ok=True)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def student_config(config: dict) -> dict:
    """The student book's configuration: the title suffixed, execution off, no launch buttons.

    The launch buttons would open the teacher notebooks (with their solutions) from the
    repository, so the student book has none: instructors hand out ``notebooks/`` instead.
    """
    config = copy.deepcopy(config)
    config["title"] = f"{config.get('title') or 'Book'} (student edition)"
    config.pop("launch_buttons", None)
    execute = config.setdefault("execute", {}) or {}
    if execute.get("execute_notebooks", "auto") != "off":
        print(
            f"student_edition: execute_notebooks {execute.get('execute_notebooks', 'auto')!r} -> 'off' "
            "(the stubs must not be executed)",
            file=sys.stderr,
        )
    execute["execute_notebooks"] = "off"
    config["execute"] = execute
    return config


def make_student_edition(repo_root: Path, out: Path) -> list[Path]:
    """Write the student notebooks to ``out/notebooks`` and the student book to ``out/book``.

    ``out/notebooks``, ``out/book`` and a previous HTML build in ``out/_build`` are
    replaced.

    Args:
        repo_root: the teacher book's root (holding ``_config.yml``, ``_toc.yml``, ``chapters/``).
        out: the output folder.

    Returns:
        The paths of the student notebooks written.

    Raises:
        StudentEditionError: a notebook breaks the exercise conventions.
    """
    repo_root, out = Path(repo_root).resolve(), Path(out).resolve()
    if out == repo_root or out in repo_root.parents:
        raise ValueError(f"--out {out} would overwrite the teacher book; choose a folder such as _build/student")
    notebooks_dir, book_dir = out / "notebooks", out / "book"

    # Transform every notebook first, so that a broken one leaves the old edition in place.
    teacher = chapter_notebooks(repo_root)
    transformed: dict[Path, tuple[nbformat.NotebookNode, nbformat.NotebookNode]] = {}
    for path in teacher:
        rel = path.relative_to(repo_root)
        nb = nbformat.read(path, as_version=4)
        transformed[rel] = (
            transform_notebook(nb, keep_outputs=False, where=str(rel)),
            transform_notebook(nb, keep_outputs=True, where=str(rel)),
        )

    for stale in (notebooks_dir, book_dir, out / "_build"):
        if stale.exists():
            shutil.rmtree(stale)

    # The book source: top-level files, then chapters/ with the notebooks replaced.
    config_path = repo_root / "_config.yml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) if config_path.exists() else {}
    config = config or {}
    book_dir.mkdir(parents=True)
    (book_dir / "_config.yml").write_text(
        "# Generated by tools/student_edition.py from the teacher book's _config.yml: do not edit.\n"
        + yaml.safe_dump(student_config(config), sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    toc_path = repo_root / "_toc.yml"
    extras: list[str] = []
    if toc_path.exists():
        _copy(toc_path, book_dir / "_toc.yml")
        toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
        for entry in toc_files(toc):
            if Path(entry).suffix:
                extras.append(entry)
            else:
                extras.extend(f"{entry}{suffix}" for suffix in (".md", ".ipynb", ".rst"))
    extras += [p.name for p in repo_root.glob("*.bib")] + list(STATIC_DIRS) + _config_paths(config)
    for name in dict.fromkeys(extras):
        src = repo_root / name
        if src.exists() and not src.is_relative_to(repo_root / "chapters"):
            if src.suffix == ".ipynb":
                nb = nbformat.read(src, as_version=4)
                nbformat.write(transform_notebook(nb, keep_outputs=True, where=name), book_dir / name)
            else:
                _copy(src, book_dir / name)
    if (repo_root / "chapters").is_dir():
        _copy(repo_root / "chapters", book_dir / "chapters")
    for md in (book_dir / "chapters").rglob("*.md"):
        text = md.read_text(encoding="utf-8")
        stripped, still_open = strip_solution_markdown(text, False, str(md.relative_to(book_dir)))
        if still_open:
            raise StudentEditionError(f"{md.relative_to(book_dir)}: solution-start without a solution-end")
        if stripped != text.strip("\n"):
            md.write_text(stripped + "\n", encoding="utf-8")

    written: list[Path] = []
    for rel, (handout, book_nb) in transformed.items():
        nbformat.write(book_nb, book_dir / rel)
        target = notebooks_dir / rel.relative_to("chapters")
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(handout, target)
        written.append(target)
    return written


def mark_files(paths: list[Path], write: bool) -> list[Path]:
    """The notebooks among ``paths`` that are not in nbgrader form; with ``write``, rewrite them.

    A notebook already in form is not rewritten, so ``--mark`` leaves its bytes alone.

    Raises:
        StudentEditionError: a notebook breaks the exercise conventions.
    """
    changed: list[Path] = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        marked = mark_notebook(nb, where=str(path))
        if marked == nb:
            continue
        changed.append(path)
        if write:
            nbformat.write(marked, path)
    return changed


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--out", type=Path, help="write the student edition to this folder, e.g. _build/student")
    mode.add_argument("--mark", action="store_true", help="rewrite NOTEBOOKs (default: every chapter) in nbgrader form")
    mode.add_argument("--check-marks", action="store_true", help="exit 1, listing the NOTEBOOKs --mark would change")
    parser.add_argument("notebooks", nargs="*", type=Path, help="with --mark or --check-marks: notebooks or folders")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the teacher book's root (default: the repository)")
    args = parser.parse_args(argv)
    try:
        if args.out is None:
            paths = find_notebooks(args.notebooks) if args.notebooks else chapter_notebooks(args.root)
            changed = mark_files(paths, write=args.mark)
            for path in changed:
                print(f"{'marked' if args.mark else 'not in nbgrader form'}: {path}")
            if args.check_marks and changed:
                print("fix with: python tools/student_edition.py --mark " + " ".join(map(str, changed)))
                return 1
            return 0
        if args.notebooks:
            parser.error("--out takes no NOTEBOOK arguments: it reads ROOT/chapters")
        written = make_student_edition(args.root, args.out)
    except StudentEditionError as err:
        print(f"student_edition: {err}", file=sys.stderr)
        return 1
    if not written:
        print(f"student_edition: no chapter notebooks under {args.root / 'chapters'}", file=sys.stderr)
    for path in written:
        print(f"wrote {path}")
    print(f"wrote the student book source to {args.out / 'book'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
