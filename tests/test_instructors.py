"""tools/instructors.py: the instructors' page is up to date, lists every exercise once, and refuses
a data file that disagrees with the notebooks; tools/bench.py --json feeds its CPU table."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml

import bench
import instructors
from setup_cell import chapter_notebooks
from student_edition import parse_exercises
from test_student_edition import leaks_in, secrets

REPO_ROOT = Path(__file__).resolve().parents[1]
PAGE = REPO_ROOT / instructors.PAGE


@pytest.fixture(scope="module")
def book() -> list[instructors.ExerciseEntry]:
    return instructors.book_exercises(REPO_ROOT)


@pytest.fixture(scope="module")
def data() -> dict:
    return instructors.load_data(REPO_ROOT / instructors.DATA)


@pytest.fixture(scope="module")
def page() -> str:
    return PAGE.read_text(encoding="utf-8")


def test_page_is_up_to_date(page: str) -> None:
    assert page == instructors.render(REPO_ROOT), (
        f"{instructors.PAGE} is out of date; fix with: python tools/instructors.py --write"
    )


def test_every_exercise_of_every_notebook_appears_exactly_once(page: str) -> None:
    labels = [ex.label for path in chapter_notebooks(REPO_ROOT)
              for ex in parse_exercises(nbformat.read(path, as_version=4), str(path))]
    assert len(labels) >= 40
    rows = [line for line in page.splitlines() if re.match(r"^\| (\d+|–) \| \{ref\}", line)]
    assert len(rows) == len(labels), f"{len(rows)} exercise rows for {len(labels)} exercises"
    for label in labels:
        assert sum(f"<{label}>` (`{label}`)" in row for row in rows) == 1, f"{label}: not listed exactly once"


def test_numbers_run_book_wide_in_toc_order(book: list[instructors.ExerciseEntry], page: str) -> None:
    toc = [entry for entry, _ in instructors.toc_pages(REPO_ROOT)]
    assert [e.number for e in book] == list(range(1, len(book) + 1))
    assert [toc.index(e.chapter) for e in book] == sorted(toc.index(e.chapter) for e in book)
    first_row_of_vgg = next(line for line in page.splitlines() if "<vgg-stack-field>" in line)
    before = sum(1 for e in book if toc.index(e.chapter) < toc.index("chapters/vgg"))
    assert first_row_of_vgg.startswith(f"| {before + 1} |")


def test_markdown_pages_count_and_nonumber_exercises_do_not(tmp_path: Path) -> None:
    """sphinx-exercise numbers every exercise of every page in toc order, except :nonumber: ones."""
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: a\nchapters:\n  - file: b\n", encoding="utf-8")
    (tmp_path / "a.md").write_text("# A\n\n```{exercise}\n:label: a-1\n**One.** x\n```\n", encoding="utf-8")

    def exercise(label: str, extra: str = "") -> list:
        return [nbformat.v4.new_markdown_cell(f"```{{exercise-start}}\n:label: {label}\n{extra}```\n**Title {label}.** text"),
                nbformat.v4.new_markdown_cell("```{exercise-end}\n```")]

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# B"), *exercise("b-1", ":nonumber:\n"), *exercise("b-2")]
    nbformat.write(nb, tmp_path / "b.ipynb")
    found = instructors.book_exercises(tmp_path)
    assert [(e.label, e.number, e.title) for e in found] == [("b-1", None, "Title b-1"), ("b-2", 2, "Title b-2")]


def test_kind_and_minutes_come_from_the_data_file(book: list[instructors.ExerciseEntry], data: dict, page: str) -> None:
    for e in book:
        row = next(line for line in page.splitlines() if f"(`{e.label}`)" in line)
        cells = [c.strip() for c in row.split(" | ")]
        assert cells[2:4] == [data[e.label]["kind"], str(data[e.label]["minutes"])], row
        assert ("none (discussion)" in row) == e.discussion, row
        assert (instructors.DISCUSSION in _note(page, e)) == e.discussion


def _note(page: str, e: instructors.ExerciseEntry) -> str:
    """The line under an exercise's chapter table that says what its check verifies."""
    notes = [line for line in page.splitlines() if line.startswith(f"- **{e.number}** (`{e.label}`). ")]
    assert len(notes) == 1, f"{e.label}: {len(notes)} notes"
    return notes[0]


def test_the_check_column_is_the_check_s_docstring(book: list[instructors.ExerciseEntry], page: str) -> None:
    from cnnzoo import exercises

    checked = [e for e in book if e.checks]
    assert len(checked) >= 30
    for e in checked:
        row = next(line for line in page.splitlines() if f"(`{e.label}`)" in line)
        note = _note(page, e)
        for name in e.checks:
            assert f"`{name}`" in row, row
            doc = inspect.getdoc(getattr(exercises, name))
            summary = " ".join(doc.split("\n\n")[0].split()).removeprefix("Exercise: ")
            assert f"`{name}`: {summary}" in note, (name, note)


def test_the_docstring_s_description_and_failure_are_kept() -> None:
    text = instructors.check_description("check_conv_output_size")
    assert not text.startswith("Exercise:")
    assert "called with the defaults" in text and text.endswith("Fails: at the first call that goes wrong.")
    with pytest.raises(ValueError, match="check_nothing"):
        instructors.check_description("check_nothing")


def _without(data: dict, label: str) -> dict:
    return {k: v for k, v in data.items() if k != label}


def test_a_missing_entry_fails_clearly(book: list[instructors.ExerciseEntry], data: dict) -> None:
    with pytest.raises(ValueError, match=r"lenet-28 \(chapters/lenet\) is missing from"):
        instructors.reconcile(book, _without(data, "lenet-28"))


def test_an_extra_entry_fails_clearly(book: list[instructors.ExerciseEntry], data: dict) -> None:
    with pytest.raises(ValueError, match="no-such-exercise is in .* but in no notebook"):
        instructors.reconcile(book, {**data, "no-such-exercise": {"kind": "code", "minutes": 5}})


def test_a_data_file_on_disk_is_reconciled(tmp_path: Path, data: dict) -> None:
    path = tmp_path / "exercises.yml"
    path.write_text(yaml.safe_dump(_without(data, "sq-speed")), encoding="utf-8")
    with pytest.raises(ValueError, match="sq-speed .* is missing"):
        instructors.render(REPO_ROOT, data_path=path)
    assert instructors.main(["--check"]) == 0


@pytest.mark.parametrize("label, value, message", [
    ("lenet-why", {"kind": "code", "minutes": 20}, "a discussion exercise .* must be a concept"),
    ("lenet-28", {"kind": "concept", "minutes": 20}, "has a self-check .* not a concept"),
])
def test_a_kind_that_contradicts_the_exercise_fails(book, data, label, value, message) -> None:
    with pytest.raises(ValueError, match=f"{label}: {message}"):
        instructors.reconcile(book, {**data, label: value})


@pytest.mark.parametrize("text, message", [
    ("lenet-28: {kind: coding, minutes: 5}", "kind must be one of concept, computation, code"),
    ("lenet-28: {kind: code, minutes: 0}", "minutes must be a positive whole number"),
    ("lenet-28: {kind: code, minutes: 2.5}", "minutes must be a positive whole number"),
    ("lenet-28: {kind: code}", r"expected \{kind: ..., minutes: ...\}"),
    ("- lenet-28", "expected a mapping"),
])
def test_a_malformed_data_file_fails_clearly(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "exercises.yml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        instructors.load_data(path)


def test_cpu_times_not_measured_without_results(tmp_path: Path) -> None:
    text = instructors.cpu_times(REPO_ROOT, tmp_path / "none.json")
    assert text.startswith("Not measured yet") and "tools/bench.py chapters --json" in text


def test_cpu_times_come_from_bench_json(tmp_path: Path) -> None:
    rows = [{"notebook": "chapters/lenet.ipynb", "seconds": 12.3, "peak_mib": 456, "error": None},
            {"notebook": "chapters/vgg.ipynb", "seconds": None, "peak_mib": None, "error": "worker failed: boom"}]
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(bench.results_document(rows, 60.0, (0.5, 0.4, 0.3))), encoding="utf-8")
    text = instructors.cpu_times(REPO_ROOT, path)
    lines = text.splitlines()
    lenet = instructors.chapter_title(REPO_ROOT / "chapters/lenet.ipynb")
    assert f"| {lenet} | 12.3 | 456 |" in lines
    assert any(line.endswith("| failed: worker failed: boom | |") for line in lines)
    assert "load average 0.5 before" in text
    notebooks = [p for _, p in instructors.toc_pages(REPO_ROOT) if p.suffix == ".ipynb"]
    assert sum("not measured yet" in line for line in lines) == len(notebooks) - 2
    path.write_text(json.dumps({"chapters": []}), encoding="utf-8")
    with pytest.raises(ValueError, match="expected what tools/bench.py --json writes"):
        instructors.cpu_times(REPO_ROOT, path)


def test_bench_numbers_survive_a_failed_worker() -> None:
    assert bench._number(float("nan"), 1) is None and bench._number(12.345, 1) == 12.3
    assert bench._number(667.6, 0) == 668 and isinstance(bench._number(667.6, 0), int)


def test_gpu_times_quote_the_readme(page: str, tmp_path: Path) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| LeNet-5 |")]
    assert rows and all(f"> {row}" in page for row in rows)
    (tmp_path / "README.md").write_text(readme.replace("What full mode costs", "What it costs"), encoding="utf-8")
    with pytest.raises(ValueError, match="What full mode costs"):
        instructors.readme_gpu_measurement(tmp_path / "README.md")


def test_page_holds_no_solution_text(page: str) -> None:
    """The student edition copies every page of chapters/, this one too."""
    for path in chapter_notebooks(REPO_ROOT):
        leaks = leaks_in(page, secrets(nbformat.read(path, as_version=4)))
        assert not leaks, f"{path.name}: {leaks}"


def test_check_and_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "instructors.md"
    target.write_text("stale\n", encoding="utf-8")
    monkeypatch.setattr(instructors, "PAGE", target)
    assert instructors.main(["--check"]) == 1
    assert instructors.main(["--write"]) == 0
    assert instructors.main(["--check"]) == 0
    assert target.read_text(encoding="utf-8") == PAGE.read_text(encoding="utf-8")
