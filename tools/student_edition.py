#!/usr/bin/env python3
"""Build the student edition: the chapters without their solutions.

The teacher edition (``chapters/*.ipynb``) marks exercises with sphinx-exercise's gated
directives and nbgrader's cell metadata:

* an exercise: ``{exercise-start}`` ... ``{exercise-end}`` in markdown cells (kept);
* its solution: a markdown cell opening with ``{solution-start} <label>``, then the
  *answer cell* (nbgrader ``solution: true``, with ``### BEGIN SOLUTION`` ...
  ``### END SOLUTION``) and possibly *demonstration* code cells, closed by a markdown
  ``{solution-end}``;
* a *check cell* (nbgrader ``grade: true``) that calls a self-check helper.

This tool writes, under ``OUT``:

``notebooks/<chapter>.ipynb``
    the hand-out notebooks (nbgrader-compatible): solution markdown and demonstration
    cells removed, each ``BEGIN``/``END SOLUTION`` region replaced by nbgrader's stub
    (``# YOUR CODE HERE`` / ``raise NotImplementedError()``), every output cleared.
``book/``
    a copy of the book source (``_config.yml`` titled "... (student edition)" and with
    execution off, ``_toc.yml``, bibliographies, static files, ``chapters/``) whose
    notebooks have the same removals but keep the outputs of ordinary cells; only the
    stubbed answer cells and the check cells lose theirs. Build it with
    ``jupyter-book build OUT/book --path-output OUT``.

Usage:
    python tools/student_edition.py --out _build/student
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


def stub_source(source: str, where: str = "cell", markdown: bool = False) -> str:
    """Replace every solution region of ``source`` by nbgrader's stub, at the marker's indentation."""
    regions = solution_regions(source, where)
    if not regions:
        raise StudentEditionError(f"{where}: answer cell has no '### {BEGIN_MARKER}' ... '### {END_MARKER}' region")
    lines = source.splitlines()
    out: list[str] = []
    previous = 0
    for begin, end in regions:
        out.extend(lines[previous:begin])
        indent = re.match(r"\s*", lines[begin]).group(0)
        stub = (MARKDOWN_STUB,) if markdown else STUB_LINES
        out.extend(indent + s for s in stub)
        previous = end + 1
    out.extend(lines[previous:])
    return "\n".join(out)


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
    result = "\n".join(keep).strip("\n")
    if BEGIN_MARKER in result:
        result = stub_source(result, where, markdown=True)
    return result, in_solution


def _clear(cell: nbformat.NotebookNode) -> None:
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    cell.metadata.pop("execution", None)


def transform_notebook(nb: nbformat.NotebookNode, keep_outputs: bool, where: str = "notebook") -> nbformat.NotebookNode:
    """Return a copy of a teacher notebook with its solutions removed.

    Args:
        nb: the teacher notebook.
        keep_outputs: keep the outputs of ordinary cells (the student book); if False,
            clear every output and execution count (the hand-out notebook). Answer and
            check cells always lose their outputs.
        where: the notebook's name, for error messages.

    Raises:
        StudentEditionError: a solution-start without a solution-end (or the reverse),
            or an answer cell whose markers do not pair up.
    """
    out = copy.deepcopy(nb)
    cells: list[nbformat.NotebookNode] = []
    in_solution = False
    opened_at = -1
    for index, cell in enumerate(out.cells):
        here = f"{where}, cell {index}"
        if cell.cell_type == "markdown":
            was_open = in_solution
            source, in_solution = strip_solution_markdown(cell.source, in_solution, here)
            if in_solution and not was_open:
                opened_at = index
            if not source.strip():
                continue
            cell.source = source
        elif cell.cell_type == "code":
            answer = is_answer_cell(cell)
            if in_solution and not answer:
                continue  # a solution demonstration
            if answer:
                cell.source = stub_source(cell.source, here)
            if answer or is_check_cell(cell) or not keep_outputs:
                _clear(cell)
        elif in_solution:
            continue  # a raw cell inside a solution
        cells.append(cell)
    if in_solution:
        raise StudentEditionError(f"{where}: the solution-start in cell {opened_at} has no matching solution-end")
    out.cells = cells
    return out


# ---------------------------------------------------------------------------------------
# The edition


def chapter_notebooks(repo_root: Path) -> list[Path]:
    """The teacher notebooks under ``chapters/``, sorted."""
    return sorted(
        p
        for p in (repo_root / "chapters").rglob("*.ipynb")
        if not SKIP_NAMES.intersection(p.relative_to(repo_root).parts)
    )


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


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="output folder, e.g. _build/student")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the teacher book's root (default: the repository)")
    args = parser.parse_args(argv)
    try:
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
