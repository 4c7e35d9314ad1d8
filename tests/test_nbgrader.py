"""nbgrader's real workflow on every chapter, and on the fixture chapter.

In a temporary course directory, ``nbgrader generate_assignment`` releases a cut-down copy of
each teacher notebook (the setup cell, the imports cell and the exercise cells: the chapter
contract puts the setup cell first and the imports in the next code cell), then
``nbgrader autograde`` grades two submissions of it:

* ``stub``: the released notebook as handed out, every stub left in: it must score 0;
* ``teacher``: the teacher's cut-down notebook itself: it must score full marks.

and the released notebook must hold no solution text (code or prose) and be the notebook
``tools/student_edition.py`` makes, exactly: every cell's type, source, metadata (nbgrader's
checksums and locks included) and outputs, and the notebook's metadata. Since it is, the stub
submission autograded here is the student's notebook run from its exercises: its stored outputs
must show every check cell failing with a "✗" message and no cell raising anything but a stub's
``NotImplementedError`` (``test_student_edition.stub_failures``); the student edition's own tests
check that the cells left out are the teacher's and read nothing an answer defines.

The notebooks are split into two courses, each run by one ``generate_assignment`` and one
``autograde`` (two nbgrader start-ups and one kernel run per notebook and submission); under
``pytest-xdist --dist loadscope`` (``make student-check``) the two test classes run side by side.

The teacher notebooks are used as they are stored: a chapter that is not in nbgrader form
fails here (fix: ``python tools/student_edition.py --mark``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from setup_cell import chapter_notebooks
from student_edition import exercise_part, is_check_cell, mark_notebook, parse_exercises, transform_notebook
from test_student_edition import leaks_in, notebook_text, secrets, stub_failures

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURE_CHAPTER = Path(__file__).resolve().parent / "fixtures" / "book" / "chapters" / "demo.ipynb"
ASSIGNMENT = "exercises"
NBGRADER = Path(sys.executable).with_name("nbgrader")

@contextlib.contextmanager
def venv_on_path():
    """nbgrader runs ``alembic`` from PATH: put this Python's scripts folder first, as an activated venv would."""
    saved = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(NBGRADER.parent), saved])
    try:
        yield
    finally:
        os.environ["PATH"] = saved


pytestmark = [
    pytest.mark.slow,  # runs in `make student-check`, once
    pytest.mark.skipif(not NBGRADER.exists(), reason="nbgrader is not installed next to this Python"),
]


def cut_down(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The setup cell, the imports cell and every cell from the first exercise to the last one's end."""
    return exercise_part(nb)[0]


@dataclass
class Course:
    """A temporary nbgrader course: its root and the teacher notebooks released (time is not tested:
    the README's budget table records it)."""

    root: Path
    teachers: dict[str, nbformat.NotebookNode]

    def released(self, name: str) -> nbformat.NotebookNode:
        return nbformat.read(self.root / "release" / ASSIGNMENT / f"{name}.ipynb", as_version=4)

    def autograded(self, name: str, student: str) -> nbformat.NotebookNode:
        """The submission as nbgrader ran it, with its outputs."""
        return nbformat.read(self.root / "autograded" / student / ASSIGNMENT / f"{name}.ipynb", as_version=4)

    def scores(self, name: str, student: str) -> tuple[float, float, dict[str, float]]:
        """(score, max score, score of each check cell) of one autograded notebook."""
        from nbgrader.api import Gradebook

        with venv_on_path(), Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            notebook = gb.find_submission_notebook(name, ASSIGNMENT, student)
            checks = {g.name: g.score for g in notebook.grades if g.cell_type == "code"}
            return notebook.score, notebook.max_score, checks


def nbgrader(root: Path, *args: str) -> None:
    with venv_on_path():
        result = subprocess.run([str(NBGRADER), *args], cwd=root, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"


def run_course(teacher_paths: list[Path], root: Path) -> Course:
    """Release the cut-down teacher notebooks and autograde a stub and a teacher submission of each."""
    names = [p.stem for p in teacher_paths]
    assert len(set(names)) == len(names), f"notebook names must be unique in one assignment: {names}"
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        "c.CourseDirectory.course_id = 'cnnzoo'\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(root / 'gradebook.db')!r}\n"
        "c.Execute.timeout = 300\n",
        encoding="utf-8",
    )
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    teachers = {}
    for path in teacher_paths:
        teacher = cut_down(nbformat.read(path, as_version=4))
        teachers[path.stem] = teacher
        nbformat.write(teacher, source / path.name)
        for helper in path.parent.glob("*.py"):  # a chapter's local modules (the fixture's selfcheck.py)
            shutil.copy(helper, source / helper.name)
    nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    for student, notebooks in (("stub", root / "release" / ASSIGNMENT), ("teacher", source)):
        submitted = root / "submitted" / student / ASSIGNMENT
        shutil.copytree(notebooks, submitted)
    nbgrader(root, "autograde", ASSIGNMENT, "--force")
    return Course(root, teachers)


#: The courses the notebooks are split into: one per pytest-xdist worker of make student-check,
#: whose ``--dist loadscope`` sends each test class to one worker.
COURSES = 2
NOTEBOOKS = [FIXTURE_CHAPTER, *chapter_notebooks(REPO_ROOT)]


def course_notebooks(group: int) -> list[Path]:
    """Notebook i goes to course i % COURSES: the chapters alternate, so both get long and short ones."""
    return [path for i, path in enumerate(NOTEBOOKS) if i % COURSES == group]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each course's tests run once per notebook of that course."""
    if "name" in metafunc.fixturenames:
        paths = course_notebooks(metafunc.cls.group)
        metafunc.parametrize("name", [p.stem for p in paths],
                             ids=["fixture-demo" if p == FIXTURE_CHAPTER else p.stem for p in paths])


class _CourseTests:
    """The tests of one course; subclasses name its group."""

    group: int

    @pytest.fixture(scope="class")
    @classmethod
    def course(cls, tmp_path_factory: pytest.TempPathFactory) -> Course:
        paths = course_notebooks(cls.group)
        unmarked = [p for p in paths if mark_notebook(nbformat.read(p, as_version=4)) != nbformat.read(p, as_version=4)]
        if unmarked:
            pytest.fail(
                "not in nbgrader form, so nbgrader would release their solution prose: "
                f"{', '.join(map(str, unmarked))} (fix: python tools/student_edition.py --mark)",
                pytrace=False,
            )
        return run_course(paths, tmp_path_factory.mktemp(f"course{cls.group}"))

    def test_released_notebook_has_no_solution(self, course: Course, name: str) -> None:
        teacher = course.teachers[name]
        secret = secrets(teacher)
        assert secret, "the teacher notebook should have solution lines to look for"
        leaks = leaks_in(notebook_text(course.released(name)), secret)
        assert not leaks, f"nbgrader released solution text of {name}: {leaks}"

    def test_released_notebook_is_the_student_edition(self, course: Course, name: str) -> None:
        """Exactly the notebook tools/student_edition.py makes from the same teacher cells."""
        released = course.released(name)
        ours = transform_notebook(course.teachers[name], keep_outputs=False, where=name)
        assert [c.cell_type for c in released.cells] == [c.cell_type for c in ours.cells]
        for index, (theirs, mine) in enumerate(zip(released.cells, ours.cells)):
            assert theirs == mine, f"{name}, cell {index} differs:\nnbgrader: {theirs}\nours:     {mine}"
        assert released.metadata == ours.metadata
        assert released == ours

    def test_stubs_score_zero_and_the_teacher_full_marks(self, course: Course, name: str) -> None:
        checks = [c for c in course.teachers[name].cells if is_check_cell(c)]
        expected_max = sum(c.metadata["nbgrader"]["points"] for c in checks)
        assert expected_max > 0
        score, max_score, by_check = course.scores(name, "stub")
        assert (score, max_score) == (0, expected_max), f"the stub submission of {name}: {by_check}"
        assert len(by_check) == len(checks) and not any(by_check.values())
        score, max_score, by_check = course.scores(name, "teacher")
        assert (score, max_score) == (expected_max, expected_max), f"the teacher's {name}: {by_check}"

    def test_stub_submission_fails_only_at_its_stubs(self, course: Course, name: str) -> None:
        """nbgrader's run of the handed-out notebook: every check fails loudly, only stubs raise otherwise."""
        problems = stub_failures(course.autograded(name, "stub"))
        assert not problems, f"the stub submission of {name}:\n" + "\n".join(problems)


class TestFirstCourse(_CourseTests):
    group = 0


class TestSecondCourse(_CourseTests):
    group = 1


def test_the_courses_hold_every_notebook_once() -> None:
    held = [path for group in range(COURSES) for path in course_notebooks(group)]
    assert sorted(held) == sorted(NOTEBOOKS) and len(held) == len(set(held))
