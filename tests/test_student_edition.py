"""The student edition holds no solution, and its stubs fail the self-checks as they should.

Two levels:

* the transform itself, on the fixture book in ``tests/fixtures/book`` (fast, independent
  of the real chapters; ``tests/fixtures/make_fixture.py`` regenerates its notebook);
* the real chapters: with ``--student-dir DIR`` the edition already built there (and its
  HTML under ``DIR/_build/html`` when present, as ``make student-check`` does), otherwise
  the notebooks are built into a temporary folder and the HTML checks are skipped.

Tests marked ``slow`` execute a notebook or build a book.
"""

from __future__ import annotations

import ast
import copy
import html
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from bench import execute_notebook
from setup_cell import chapter_notebooks
from student_edition import (
    StudentEditionError,
    exercise_part,
    is_answer_cell,
    is_check_cell,
    make_student_edition,
    is_solution_markdown,
    mark_notebook,
    parse_exercises,
    solution_lines,
    strip_solution_markdown,
    student_config,
    transform_notebook,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURE_BOOK = Path(__file__).resolve().parent / "fixtures" / "book"
FORBIDDEN = ("BEGIN SOLUTION", "END SOLUTION", "{solution-start}", "{solution-end}", "{solution}")
#: Solution prose lines at least this long count as a leak if found in a student notebook.
PROSE_MIN = 40
TEXT_SUFFIXES = {".html", ".ipynb", ".md", ".txt"}


# ---------------------------------------------------------------------------------------
# Helpers shared by the fixture and the real chapters


def output_text(cell: nbformat.NotebookNode) -> str:
    """A code cell's visible text output: streams, text/plain results, errors."""
    parts: list[str] = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
    return "\n".join(parts)


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """Every cell's source and text output."""
    return "\n".join(cell.source + "\n" + output_text(cell) for cell in nb.cells)


def solution_prose(nb: nbformat.NotebookNode) -> list[str]:
    """Long markdown lines that only the solution blocks of a teacher notebook contain."""
    found: list[str] = []
    in_solution = False
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        kept, in_solution_after = strip_solution_markdown(cell.source, in_solution, "teacher")
        kept_lines = set(kept.splitlines())
        if kept != cell.source.strip("\n") or in_solution:
            found.extend(
                line.strip()
                for line in cell.source.splitlines()
                if line not in kept_lines and not line.lstrip().startswith(("```", ":::", ":"))
            )
        in_solution = in_solution_after
    return [line for line in found if len(line) >= PROSE_MIN]


def public_text(teacher: nbformat.NotebookNode) -> str:
    """The text of the teacher cells outside every solution block (from solution-start to solution-end)."""
    hidden: set[int] = set()
    for ex in parse_exercises(teacher):
        if ex.solution_start is not None:
            hidden.update(range(ex.solution_start, (ex.solution_end or ex.solution_start) + 1))
        hidden.update(ex.answer_cells)
    return "\n".join(cell.source + "\n" + output_text(cell) for i, cell in enumerate(teacher.cells) if i not in hidden)


def secrets(teacher: nbformat.NotebookNode) -> list[str]:
    """What must not reach students: solution code lines and long solution prose lines.

    A line that the chapter also shows outside its solutions (``nn.Flatten(),``, say) is
    no secret.
    """
    public = public_text(teacher)
    return [line for line in solution_lines(teacher) + solution_prose(teacher) if line not in public]


def leaks_in(text: str, secret_lines: list[str]) -> list[str]:
    """The forbidden markers and secret lines that occur in ``text``."""
    return [marker for marker in FORBIDDEN if marker in text] + [line for line in secret_lines if line in text]


def html_text(raw: str) -> str:
    """The text of an HTML page: tags removed, entities decoded (code spans join up again)."""
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


def html_leaks(html_dir: Path, secret_lines: list[str]) -> list[str]:
    """Solution traces in a built HTML book: pages, copied sources, downloadable notebooks."""
    problems: list[str] = []
    for path in sorted(html_dir.rglob("*")):
        if path.suffix not in TEXT_SUFFIXES or not path.is_file():
            continue
        raw = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".html":
            text = html_text(raw)
        elif path.suffix == ".ipynb":  # JSON escapes quotes: compare the cells' text
            text = notebook_text(nbformat.reads(raw, as_version=4))
        else:
            text = raw
        if path.suffix == ".html" and 'class="solution' in raw:
            problems.append(f"{path.relative_to(html_dir)}: a sphinx-exercise solution block (class=\"solution...)")
        problems.extend(f"{path.relative_to(html_dir)}: {leak!r}" for leak in leaks_in(text, secret_lines))
    return problems


def stub_failures(executed: nbformat.NotebookNode) -> list[str]:
    """What is wrong with an executed student notebook (``allow_errors=True``).

    Every check cell must fail loudly: raise ``CheckFailed`` (an ``AssertionError``) with a
    "✗ ..." message, so that an autograder scores it zero. An answer cell may raise only
    ``NotImplementedError`` (its stub); no other cell may raise.
    """
    problems: list[str] = []
    for i, cell in enumerate(executed.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if is_check_cell(cell):
            if not any(o.ename in ("CheckFailed", "AssertionError") and o.evalue.startswith("✗") for o in errors):
                problems.append(
                    f"check cell {i} ({cell.source.strip()!r}) did not raise CheckFailed with a ✗ message on the stub: "
                    f"{output_text(cell)[:200]!r}"
                )
            continue
        allowed = ("NotImplementedError",) if is_answer_cell(cell) else ()
        problems.extend(
            f"cell {i} raised {o.ename}: {o.evalue}\n--- source:\n{cell.source}" for o in errors if o.ename not in allowed
        )
    return problems


def check_cell_failures(teacher: nbformat.NotebookNode) -> list[str]:
    """Check cells of a stored teacher notebook whose output is not a ✓ line."""
    problems = []
    for i, cell in enumerate(teacher.cells):
        if is_check_cell(cell):
            text = output_text(cell).strip()
            if not text.startswith("✓") or "✗" in text:
                problems.append(f"check cell {i} ({cell.source.strip()!r}) printed {text[:200]!r}, not ✓")
    return problems


def exercise_failures(teacher: nbformat.NotebookNode, student: nbformat.NotebookNode) -> list[str]:
    """Exercises without a solution, answer or check cell, or whose text is missing for students."""
    problems: list[str] = []
    student_markdown = "\n".join(c.source for c in student.cells if c.cell_type == "markdown")
    exercises = parse_exercises(teacher)
    for ex in exercises:
        if ex.solution_start is None or ex.solution_end is None:
            problems.append(f"exercise {ex.label}: no solution-start ... solution-end block")
        if "discussion" in ex.classes:
            continue  # a question answered in prose: no code to stub, nothing to self-check
        if not ex.answer_cells:
            problems.append(
                f"exercise {ex.label}: no answer cell (nbgrader solution) in its solution "
                "(a prose-only exercise must say so with `:class: discussion` on its exercise-start)"
            )
        if not ex.check_cells:
            problems.append(f"exercise {ex.label}: no check cell (nbgrader grade) after its solution")
        if ex.label not in student_markdown:
            problems.append(f"exercise {ex.label}: its label is missing from the student edition")
        for line in ex.text.splitlines():
            if line.strip() and line.strip() not in student_markdown:
                problems.append(f"exercise {ex.label}: text line missing from the student edition: {line!r}")
    return problems


def has_outputs(nb: nbformat.NotebookNode) -> list[str]:
    """Code cells that carry outputs or an execution count."""
    return [
        f"cell {i}: {len(c.outputs)} outputs, execution_count {c.execution_count}"
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]


def fail_if(problems: list[str], what: str) -> None:
    """Fail the test with every problem listed."""
    if problems:
        pytest.fail(f"{what}:\n" + "\n".join(problems), pytrace=False)


# ---------------------------------------------------------------------------------------
# The transform, on the fixture book


@pytest.fixture(scope="module")
def fixture_edition(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture book's student edition, built into a temporary folder."""
    out = tmp_path_factory.mktemp("fixture-student")
    make_student_edition(FIXTURE_BOOK, out)
    return out


@pytest.fixture(scope="module")
def fixture_teacher() -> nbformat.NotebookNode:
    return nbformat.read(FIXTURE_BOOK / "chapters" / "demo.ipynb", as_version=4)


def test_fixture_layout(fixture_edition: Path) -> None:
    """Notebooks, book source, config and bibliography land where the Makefile expects them."""
    assert (fixture_edition / "notebooks" / "demo.ipynb").is_file()
    for name in ("_config.yml", "_toc.yml", "references.bib", "chapters/demo.ipynb", "chapters/intro.md", "chapters/selfcheck.py"):
        assert (fixture_edition / "book" / name).is_file(), name
    config = yaml.safe_load((fixture_edition / "book" / "_config.yml").read_text(encoding="utf-8"))
    teacher = yaml.safe_load((FIXTURE_BOOK / "_config.yml").read_text(encoding="utf-8"))
    assert config["title"] == teacher["title"] + " (student edition)"
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["repository"] == teacher["repository"]
    assert "launch_buttons" in teacher and "launch_buttons" not in config  # they would open the teacher notebooks


def test_fixture_handout_is_stubbed(fixture_edition: Path, fixture_teacher: nbformat.NotebookNode) -> None:
    """Answer cells keep their signature and nbgrader metadata; the body becomes nbgrader's stub."""
    student = nbformat.read(fixture_edition / "notebooks" / "demo.ipynb", as_version=4)
    answers = [c for c in student.cells if is_answer_cell(c)]
    assert [c.source for c in answers] == [
        'def conv_output_size(size, kernel, stride=1, padding=0):\n'
        '    """Return the output width of a convolution."""\n'
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()",
        "# YOUR CODE HERE\nraise NotImplementedError()",  # the demonstration, an answer cell in nbgrader form
        'def pool_output_size(size, window):\n'
        '    """Return the output width of non-overlapping pooling."""\n'
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()",
    ]
    teacher_answers = [c for c in fixture_teacher.cells if is_answer_cell(c)]
    for mine, teacher in zip(answers, teacher_answers):
        assert mine.metadata.nbgrader.grade_id == teacher.metadata.nbgrader.grade_id
        assert mine.metadata.nbgrader.solution and not mine.metadata.nbgrader.grade
    assert sum(is_check_cell(c) for c in student.cells) == 2
    # Every markdown solution cell becomes nbgrader's "YOUR ANSWER HERE"; no cell is dropped.
    assert len(student.cells) == len(fixture_teacher.cells)
    assert [c.source for c in student.cells if is_solution_markdown(c)] == ["YOUR ANSWER HERE"] * 4
    fail_if(has_outputs(student), "outputs in the hand-out notebook")


def test_fixture_has_no_solution(fixture_edition: Path, fixture_teacher: nbformat.NotebookNode) -> None:
    secret = secrets(fixture_teacher)
    assert "return (size + 2 * padding - kernel) // stride + 1" in secret
    assert any("padded input" in line for line in secret), "solution prose is checked too"
    for path in (fixture_edition / "notebooks" / "demo.ipynb", fixture_edition / "book" / "chapters" / "demo.ipynb"):
        fail_if(leaks_in(notebook_text(nbformat.read(path, as_version=4)), secret), f"solution text in {path.name}")


def test_fixture_book_keeps_ordinary_outputs(fixture_edition: Path, fixture_teacher: nbformat.NotebookNode) -> None:
    """The student book looks like the teacher book minus solutions: stored outputs stay."""
    book = nbformat.read(fixture_edition / "book" / "chapters" / "demo.ipynb", as_version=4)
    teacher_outputs = {c.source: c.outputs for c in fixture_teacher.cells if c.cell_type == "code"}
    for cell in book.cells:
        if cell.cell_type != "code":
            continue
        if is_answer_cell(cell) or is_check_cell(cell):
            assert not cell.outputs and cell.execution_count is None, cell.source
        else:
            assert cell.outputs == teacher_outputs[cell.source], cell.source
    assert any(c.outputs for c in book.cells if c.cell_type == "code")


def test_fixture_exercises(fixture_edition: Path, fixture_teacher: nbformat.NotebookNode) -> None:
    student = nbformat.read(fixture_edition / "notebooks" / "demo.ipynb", as_version=4)
    exercises = parse_exercises(fixture_teacher)
    assert [ex.label for ex in exercises] == ["demo-ex-conv-size", "demo-ex-pool-size"]
    assert [len(ex.answer_cells) for ex in exercises] == [2, 1]  # the demonstration is an answer cell
    assert [len(ex.demo_cells) for ex in exercises] == [0, 0]
    fail_if(exercise_failures(fixture_teacher, student), "exercise problems")
    fail_if(check_cell_failures(fixture_teacher), "teacher check cells")


def _exercise(solution_cells: list[nbformat.NotebookNode], end: bool = True) -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("```{exercise-start}\n:label: ex\n```\nDo it.\n```{exercise-end}\n```"),
        new_markdown_cell("```{solution-start} ex\n:class: dropdown\n```\nBecause."),
        *solution_cells,
    ]
    if end:
        cells.append(new_markdown_cell("```{solution-end}\n```"))
    return new_notebook(cells=cells)


def test_missing_solution_end_is_an_error() -> None:
    nb = _exercise([new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")], end=False)
    with pytest.raises(StudentEditionError, match="no matching solution-end"):
        transform_notebook(nb, keep_outputs=False)


def test_missing_end_marker_is_an_error() -> None:
    nb = _exercise([new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1")])
    with pytest.raises(StudentEditionError, match="no matching 'END SOLUTION'"):
        transform_notebook(nb, keep_outputs=False)


def test_solution_end_without_start_is_an_error() -> None:
    nb = new_notebook(cells=[new_markdown_cell("```{solution-end}\n```")])
    with pytest.raises(StudentEditionError, match="without a solution-start"):
        transform_notebook(nb, keep_outputs=False)


def test_stub_keeps_indentation_and_surrounding_code() -> None:
    source = (
        "class Net:\n"
        "    def forward(self, x):\n"
        "        x = self.stem(x)\n"
        "        ### BEGIN SOLUTION\n"
        "        x = self.body(x)\n"
        "        ### END SOLUTION\n"
        "        return x\n"
        "\n"
        "def g():\n"
        "    ### BEGIN SOLUTION\n"
        "    pass\n"
        "    ### END SOLUTION"
    )
    cell = new_code_cell(source, metadata={"nbgrader": {"solution": True, "grade": False, "grade_id": "a"}})
    out = transform_notebook(_exercise([cell]), keep_outputs=False)
    assert [c.source for c in out.cells if is_answer_cell(c)] == [
        "class Net:\n"
        "    def forward(self, x):\n"
        "        x = self.stem(x)\n"
        "        # YOUR CODE HERE\n"
        "        raise NotImplementedError()\n"
        "        return x\n"
        "\n"
        "def g():\n"
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()"
    ]


def test_solution_in_one_cell_and_colon_fences() -> None:
    """Directives sharing a cell with other text, and MyST colon fences, are handled line by line."""
    nb = new_notebook(
        cells=[
            new_markdown_cell(
                ":::{exercise-start}\n:label: ex\n:::\nDo it.\n:::{exercise-end}\n:::\n\n"
                ":::{solution-start} ex\n:::\nThe secret reasoning.\n:::{solution-end}\n:::\n\nAfter the solution."
            ),
            new_markdown_cell("Intro.\n\n```{solution} ex\n:class: dropdown\nInline secret.\n```\n\nOutro."),
        ]
    )
    out = transform_notebook(nb, keep_outputs=False)
    assert [c.source for c in out.cells] == [
        ":::{exercise-start}\n:label: ex\n:::\nDo it.\n:::{exercise-end}\n:::",
        "YOUR ANSWER HERE",
        "After the solution.",
        "Intro.",
        "YOUR ANSWER HERE",
        "Outro.",
    ]
    book = transform_notebook(nb, keep_outputs=True)
    assert [c.source for c in book.cells] == [out.cells[i].source for i in (0, 2, 3, 5)]  # no YOUR ANSWER HERE


def test_execution_is_turned_off() -> None:
    config = student_config({"title": "T", "execute": {"execute_notebooks": "auto", "timeout": 5}})
    assert config["execute"] == {"execute_notebooks": "off", "timeout": 5}
    assert student_config({})["execute"]["execute_notebooks"] == "off"


def test_out_cannot_be_the_book(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="overwrite the teacher book"):
        make_student_edition(FIXTURE_BOOK, FIXTURE_BOOK)


# ---------------------------------------------------------------------------------------
# nbgrader form (--mark)

ANSWER = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"


def _author_notebook() -> nbformat.NotebookNode:
    """Exercises as an author writes them: exercise and solution prose in one cell, no metadata."""
    return new_notebook(
        cells=[
            new_markdown_cell("## Exercises\n\n```{exercise-start}\n:label: ex\n```\nDo it.\n```{exercise-end}\n```\n\n"
                              "```{solution-start} ex\n:class: dropdown\n```\nThe secret reasoning."),
            new_code_cell(ANSWER),
            new_code_cell("print(f())"),
            new_markdown_cell("```{solution-end}\n```"),
            new_code_cell("check(f)", metadata={"nbgrader": {"grade": True, "solution": False, "points": 2, "grade_id": "c"}}),
            new_markdown_cell("```{exercise} \n:label: why\n:class: discussion\nWhy?\n```\n"
                              "```{solution} why\nBecause.\n```\nThe end."),
        ]
    )


def test_mark_splits_solution_prose_into_its_own_cells() -> None:
    marked = mark_notebook(_author_notebook())
    sources = [c.source for c in marked.cells]
    assert sources == [
        "## Exercises\n\n```{exercise-start}\n:label: ex\n```\nDo it.\n```{exercise-end}\n```",
        "```{solution-start} ex\n:class: dropdown\n```\nThe secret reasoning.",
        ANSWER,
        "### BEGIN SOLUTION\nprint(f())\n### END SOLUTION",
        "```{solution-end}\n```",
        "check(f)",
        "```{exercise} \n:label: why\n:class: discussion\nWhy?\n```",
        "```{solution} why\nBecause.\n```",
        "The end.",
    ]
    meta = [c.metadata.get("nbgrader") for c in marked.cells]
    assert [m is not None and m["solution"] for m in meta] == [False, True, True, True, True, False, False, True, False]
    assert meta[1] == {"grade": True, "solution": True, "locked": False, "points": 0, "schema_version": 3, "grade_id": "ex-solution"}
    assert meta[2]["grade_id"] == "ex-answer" and meta[3]["grade_id"] == "ex-answer-2" and not meta[2]["grade"]
    assert meta[4]["grade_id"] == "ex-solution-2" and meta[7]["grade_id"] == "why-solution"
    assert meta[5] == {"grade": True, "solution": False, "locked": True, "points": 2, "schema_version": 3, "grade_id": "c"}
    ids = [c.id for c in marked.cells]
    assert len(set(ids)) == len(ids) and ids[1] == "ex-solution"
    nbformat.validate(marked)


def test_mark_is_idempotent_and_keeps_the_rest() -> None:
    author = _author_notebook()
    original = copy.deepcopy(author)
    marked = mark_notebook(author)
    assert author == original  # the input is not modified
    assert mark_notebook(marked) == marked
    assert mark_notebook(author) == marked  # deterministic: the same ids every time
    public = [c.source for c in marked.cells if c.cell_type == "markdown" and not is_solution_markdown(c)]
    for line in ("## Exercises", "Do it.", "Why?", "The end."):
        assert sum(line in text for text in public) == 1, line
    assert not any("secret" in text or "Because" in text for text in public)


def test_mark_unmarks_public_text() -> None:
    """A public markdown cell with stale solution metadata would be wiped by nbgrader: it loses the metadata."""
    nb = new_notebook(cells=[new_markdown_cell("Public.", metadata={"nbgrader": {"solution": True, "grade": True}})])
    assert "nbgrader" not in mark_notebook(nb).cells[0].metadata


def test_mark_refuses_broken_solutions() -> None:
    nb = _author_notebook()
    nb.cells[1].source = "def f():\n    ### BEGIN SOLUTION\n    return 1"
    with pytest.raises(StudentEditionError, match="no matching 'END SOLUTION'"):
        mark_notebook(nb)
    nb = _author_notebook()
    del nb.cells[3]
    with pytest.raises(StudentEditionError, match="no matching solution-end"):
        mark_notebook(nb)


def test_mark_cli_on_copies(tmp_path: Path) -> None:
    """--check-marks and --mark on copies of the fixture chapter (unmarked) and of every real chapter."""
    import student_edition

    author = tmp_path / "author.ipynb"
    nbformat.write(_author_notebook(), author)
    copies = [author]
    for path in TEACHER:
        copies.append(tmp_path / f"chapter-{path.name}")
        shutil.copy(path, copies[-1])
    before = {p: nbformat.read(p, as_version=4) for p in copies}
    assert student_edition.main(["--check-marks", str(author)]) == 1
    assert student_edition.main(["--mark", *map(str, copies)]) == 0
    assert student_edition.main(["--check-marks", *map(str, copies)]) == 0
    stamp = {p: p.read_bytes() for p in copies}
    assert student_edition.main(["--mark", *map(str, copies)]) == 0
    assert {p: p.read_bytes() for p in copies} == stamp  # a second --mark writes nothing
    for path in copies:
        teacher, marked = before[path], nbformat.read(path, as_version=4)
        # Code cells keep their outputs and execution counts; the student edition is the same.
        code = lambda nb: [(c.outputs, c.execution_count) for c in nb.cells if c.cell_type == "code"]
        assert code(marked) == code(teacher), path.name
        assert transform_notebook(marked, keep_outputs=False) == transform_notebook(teacher, keep_outputs=False)
        fail_if(leaks_in(notebook_text(transform_notebook(marked, keep_outputs=False)), secrets(teacher)), path.name)


@pytest.mark.slow
def test_fixture_stubs_raise(fixture_edition: Path) -> None:
    student = nbformat.read(fixture_edition / "notebooks" / "demo.ipynb", as_version=4)
    execute_notebook(student, cwd=FIXTURE_BOOK / "chapters", allow_errors=True)
    fail_if(stub_failures(student), "the stubbed fixture notebook")


@pytest.mark.slow
def test_fixture_book_builds_without_solutions(fixture_edition: Path, fixture_teacher: nbformat.NotebookNode) -> None:
    """The student book builds with warnings as errors, shows the exercises and no solution."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    if not jupyter_book.exists():
        pytest.skip("jupyter-book is not installed next to this Python")
    result = subprocess.run(
        [str(jupyter_book), "build", str(fixture_edition / "book"), "-W", "-n", "--keep-going",
         "--path-output", str(fixture_edition)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html_dir = fixture_edition / "_build" / "html"
    page = (html_dir / "chapters" / "demo.html").read_text(encoding="utf-8")
    assert 'class="exercise' in page
    assert "(student edition)" in page
    fail_if(html_leaks(html_dir, secrets(fixture_teacher)), "solution text in the fixture's student HTML")
    shutil.rmtree(fixture_edition / "_build")


# ---------------------------------------------------------------------------------------
# The real chapters


@dataclass
class Edition:
    """A student edition of the book's chapters: its folder and HTML (None if not built)."""

    root: Path
    html: Path | None

    def notebook(self, teacher_path: Path) -> Path:
        """The student notebook made from a teacher chapter."""
        return self.root / "notebooks" / teacher_path.relative_to(REPO_ROOT / "chapters")


TEACHER = chapter_notebooks(REPO_ROOT)
NO_CHAPTERS = pytest.mark.skipif(not TEACHER, reason="no chapter notebooks under chapters/ yet")


def _chapter_params() -> list:
    if not TEACHER:
        return [pytest.param(None, marks=pytest.mark.skip(reason="no chapter notebooks under chapters/ yet"), id="none")]
    return [pytest.param(p, id=p.stem) for p in TEACHER]


@pytest.fixture(scope="session")
def edition(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Edition:
    """The edition given by ``--student-dir``, or a fresh one (notebooks only) in a temporary folder."""
    given = request.config.getoption("--student-dir")
    if given:
        root = Path(given).resolve()
        if not (root / "notebooks").is_dir():
            pytest.fail(f"--student-dir {root} holds no notebooks/ folder: run `make student` first", pytrace=False)
        html_dir = root / "_build" / "html"
        return Edition(root, html_dir if html_dir.is_dir() else None)
    root = tmp_path_factory.mktemp("student")
    make_student_edition(REPO_ROOT, root)
    return Edition(root, None)


@pytest.fixture(params=_chapter_params())
def chapter(request: pytest.FixtureRequest, edition: Edition) -> tuple[Path, nbformat.NotebookNode, nbformat.NotebookNode]:
    """(teacher path, teacher notebook, student notebook) for one chapter."""
    path: Path = request.param
    student_path = edition.notebook(path)
    if not student_path.exists():
        pytest.fail(f"{student_path} is missing: the student edition is stale, run `make student`", pytrace=False)
    return path, nbformat.read(path, as_version=4), nbformat.read(student_path, as_version=4)


def test_no_solution_in_student_notebooks(chapter) -> None:
    """(a) No marker, directive, solution code line or solution prose in the hand-out notebook."""
    path, teacher, student = chapter
    fail_if(leaks_in(notebook_text(student), secrets(teacher)), f"solution text in the student {path.name}")


@NO_CHAPTERS
def test_no_solution_in_student_html(edition: Edition) -> None:
    """(a) The built student HTML has no solution block and no solution line of any chapter."""
    if edition.html is None:
        pytest.skip("no student HTML: pass --student-dir after `make student` to check it")
    teachers = [nbformat.read(path, as_version=4) for path in TEACHER]
    # A line that some chapter shows in public (``return nn.Sequential(``, printed by another
    # chapter's inspect.getsource) reveals nothing on any page.
    shown = "\n".join(public_text(teacher) for teacher in teachers)
    secret = [line for teacher in teachers for line in secrets(teacher) if line not in shown]
    fail_if(html_leaks(edition.html, secret), "solution text in the student HTML")
    book_copy = edition.root / "book" / "chapters"
    for path in TEACHER:
        copy = book_copy / path.relative_to(REPO_ROOT / "chapters")
        if copy.exists():
            fail_if(leaks_in(notebook_text(nbformat.read(copy, as_version=4)), secret), f"solution text in {copy}")


def test_student_notebooks_have_no_outputs(chapter) -> None:
    """(b) The hand-out notebooks are stored unexecuted."""
    path, _, student = chapter
    fail_if(has_outputs(student), f"outputs in the student {path.name}")


def _names(source: str, ctx: type) -> set[str]:
    """The names a cell's code binds (``ast.Store``, with its functions and classes) or reads (``ast.Load``)."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    found = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ctx):
            found.add(node.id)
        elif ctx is ast.Store and isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.add(node.name)
    return found


def test_only_the_exercises_need_running(chapter) -> None:
    """(c) The student notebook can be checked from its exercises alone.

    nbgrader releases, and ``tests/test_nbgrader.py`` autogrades, the setup cell, the imports
    cell and the exercises; its stub submission must fail at every check and raise nothing but
    the stubs' ``NotImplementedError`` (``stub_failures``, checked there on nbgrader's own run).
    That run stands for the whole student notebook because the cells it leaves out are the
    teacher's own, word for word, and none of them after the first exercise reads a name that an
    answer cell defines (both checked here): they run in the student's notebook exactly as nbval
    runs them in the teacher's.
    """
    path, teacher, student = chapter
    assert len(student.cells) == len(teacher.cells), "the student edition keeps the teacher's cells, one for one"
    kept = exercise_part(teacher)[1]
    skipped = [i for i in range(len(student.cells)) if i not in kept]
    problems = [f"cell {i} differs from the teacher's" for i in skipped if student.cells[i].source != teacher.cells[i].source]
    answers = set().union(*[_names(c.source, ast.Store) for c in student.cells if c.cell_type == "code" and is_answer_cell(c)])
    first_exercise = min(ex.start_cell for ex in parse_exercises(teacher))
    for i in skipped:
        cell = student.cells[i]
        if i > first_exercise and cell.cell_type == "code" and (used := _names(cell.source, ast.Load) & answers):
            problems.append(f"cell {i}, outside the exercises, reads {sorted(used)}, which an answer cell defines")
    fail_if(problems, f"the student {path.name} outside its exercises")


def test_teacher_checks_pass(chapter) -> None:
    """(d) Every check cell of the stored teacher notebook shows ✓ and none ✗."""
    path, teacher, _ = chapter
    fail_if(check_cell_failures(teacher), f"check cells of {path.name}")


def test_exercises_complete(chapter) -> None:
    """(e) Every exercise has a solution, an answer and a check cell; its text reaches the students."""
    path, teacher, student = chapter
    fail_if(exercise_failures(teacher, student), f"exercises of {path.name}")
