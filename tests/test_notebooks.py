"""Hygiene of the stored chapter notebooks (``chapters/**/*.ipynb``), without running them.

nbval compares only cells that were executed, so every code cell must be stored executed
and in order; the outputs must be portable (no machine paths), small, and free of errors;
every chapter starts with the setup cell generated from ``_config.yml``, is in the nbgrader
form ``tools/student_edition.py --mark`` gives it, and is listed in ``_toc.yml``; and ``nbval-ignore-output`` may only hide outputs that cannot be
deterministic (training, timing); every stored image is a captioned figure (``mystnb.figure``) with a name unique in the book. The same checks run on the fixture chapter in
``tests/fixtures/book``, so that they are known to pass on a well-formed notebook.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml

import setup_cell
from setup_cell import chapter_notebooks, find_notebooks
from student_edition import mark_notebook, toc_files

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURE_BOOK = Path(__file__).resolve().parent / "fixtures" / "book"

# After ../shared/tools/nbcheck.py: an absolute file path (two folders deep at least, not
# part of a URL) or an installed package's path.
PATH_RE = re.compile(r"(?<![\w:/.~-])/(?:[\w.-]+/){2,}|site-packages")
#: The largest output a cell may store, as serialised JSON (images are base64 inside it).
MAX_OUTPUT_BYTES = 200_000
IGNORE_TAG = "nbval-ignore-output"
#: What a cell's source must show for its output to be ignored: training (a call to fit or to a
#: chapter's train helper) or timing.
NONDETERMINISTIC_RE = re.compile(r"\b(?:fit|train)\(|\btim(?:e|es|ed|er|ers|ing|eit)\b|perf_counter|monotonic", re.IGNORECASE)

CHAPTERS = chapter_notebooks(REPO_ROOT)


def output_text(out: nbformat.NotebookNode) -> str:
    """The text of one output: streams, text and JSON data, errors."""
    parts: list[str] = []
    if "text" in out:
        parts.append(out["text"])
    for key, value in out.get("data", {}).items():
        if key.startswith("text/") or key == "application/json":
            parts.append(value if isinstance(value, str) else json.dumps(value))
    if out.get("output_type") == "error":
        parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}")
    return "\n".join(parts)


def show(index: int, cell: nbformat.NotebookNode) -> str:
    """A cell for a failure message."""
    return f"cell {index}:\n    " + cell.source.replace("\n", "\n    ")


def code_cells(nb: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode]]:
    """The non-empty code cells with their indices."""
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]


# ---------------------------------------------------------------------------------------
# The checks, each returning its problems


def execution_problems(nb: nbformat.NotebookNode) -> list[str]:
    """Code cells not stored executed as 1, 2, 3, ... from the top."""
    problems = []
    for expected, (i, cell) in enumerate(code_cells(nb), start=1):
        if cell.execution_count != expected:
            state = "never executed" if cell.execution_count is None else f"execution count {cell.execution_count}"
            problems.append(f"{state}, expected {expected} (run the notebook top to bottom in a fresh kernel): {show(i, cell)}")
            break  # the rest would all be off by the same
    return problems


def output_problems(nb: nbformat.NotebookNode) -> list[str]:
    """Error outputs, machine paths, torchinfo's 'Units.' glitch, oversized outputs."""
    problems = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            text = output_text(out)
            if out.get("output_type") == "error":
                problems.append(f"stored error {text[:200]!r} in {show(i, cell)}")
            m = PATH_RE.search(text)
            if m:
                problems.append(f"machine path ...{text[max(0, m.start() - 30):m.end() + 40]!r} in the output of {show(i, cell)}")
            if "Units." in text:
                problems.append(f"torchinfo's 'Units.' glitch in the output of {show(i, cell)}")
            size = len(json.dumps(out))
            if size > MAX_OUTPUT_BYTES:
                problems.append(f"an output of {size:,} bytes (limit {MAX_OUTPUT_BYTES:,}; shrink the figure) in {show(i, cell)}")
    return problems


#: A call that makes a figure in a code cell: its cell must store an image.
FIGURE_RE = re.compile(r"\bdiagrams\.draw\(|\bplt\.(?:subplots|figure)\(")


def figure_problems(nb: nbformat.NotebookNode) -> list[str]:
    """A cell that draws a figure (``diagrams.draw``, ``plt.subplots``) but stores no image.

    ``diagrams.draw`` returns a figure that pyplot does not manage, so ``plt.show()`` after it
    shows nothing: the figure must be the cell's result or passed to ``display``.
    """
    problems = []
    for i, cell in code_cells(nb):
        images = [out for out in cell.get("outputs", []) if any(k.startswith("image/") for k in out.get("data", {}))]
        if FIGURE_RE.search(cell.source) and not images:
            problems.append(f"a figure is drawn but no image is stored (display(fig), or end the cell with fig): {show(i, cell)}")
    return problems


def has_image(cell: nbformat.NotebookNode) -> bool:
    """Whether a cell's stored outputs contain an image."""
    return any(key.startswith("image/") for out in cell.get("outputs", []) for key in out.get("data", {}))


def figure_name_prefixes(stem: str) -> tuple[str, ...]:
    """The prefixes a figure name of chapter ``stem`` may have: ``fig-<chapter>-``, ``_`` or ``-``."""
    return tuple(dict.fromkeys((f"fig-{stem}-", f"fig-{stem.replace('_', '-')}-")))


def caption_problems(nb: nbformat.NotebookNode, stem: str) -> list[str]:
    """A cell storing an image without ``mystnb.figure`` caption and name (``fig-<chapter>-...``).

    myst-nb renders such a cell's image as a numbered figure with the caption, which says what
    the figure shows and what to look at; the name is what ``{numref}`` refers to.
    """
    problems = []
    for i, cell in code_cells(nb):
        if not has_image(cell):
            continue
        figure = cell.metadata.get("mystnb", {}).get("figure", {})
        caption, name = figure.get("caption"), figure.get("name")
        if not isinstance(caption, str) or not caption.strip():
            problems.append(f"an image without a caption (cell metadata mystnb.figure.caption): {show(i, cell)}")
        if not isinstance(name, str) or not name.startswith(figure_name_prefixes(stem)) or not re.fullmatch(r"[a-z0-9_-]+", name):
            problems.append(f"figure name {name!r}, expected 'fig-{stem}-<short-name>' (lower case, digits, - and _; "
                            f"cell metadata mystnb.figure.name): {show(i, cell)}")
    return problems


#: A label a Markdown cell or page defines: ``(name)=`` targets and ``:label:``/``:name:`` options.
LABEL_RE = re.compile(r"^\((?P<target>[^)\s]+)\)=\s*$|^\s*:(?:label|name):\s*(?P<option>\S+)\s*$", re.MULTILINE)


def book_labels(root: Path) -> list[tuple[str, str]]:
    """Every figure name and Markdown label of the book under ``root/chapters``, with where it is."""
    labels = []
    for path in [*chapter_notebooks(root), *sorted((root / "chapters").rglob("*.md"))]:
        where = str(path.relative_to(root))
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            for i, cell in enumerate(nb.cells):
                name = cell.metadata.get("mystnb", {}).get("figure", {}).get("name")
                if name:
                    labels.append((name, f"{where}, cell {i} (figure)"))
                if cell.cell_type == "markdown":
                    labels += [(m["target"] or m["option"], f"{where}, cell {i}") for m in LABEL_RE.finditer(cell.source)]
        else:
            labels += [(m["target"] or m["option"], where) for m in LABEL_RE.finditer(path.read_text(encoding="utf-8"))]
    return labels


def duplicate_label_problems(labels: list[tuple[str, str]]) -> list[str]:
    """A figure name or label defined twice in the book (a ``{numref}`` would resolve to one of them)."""
    seen: dict[str, list[str]] = {}
    for name, where in labels:
        seen.setdefault(name, []).append(where)
    return [f"{name!r} is defined {len(places)} times: {'; '.join(places)}" for name, places in seen.items() if len(places) > 1]


def setup_cell_problems(nb: nbformat.NotebookNode, config: Path) -> list[str]:
    """The first code cell is not the setup cell rendered from ``config``."""
    expected = setup_cell.render(config)
    first = setup_cell.first_code_cell(nb)
    if setup_cell.matches(first, expected):
        return []
    found = "no code cell" if first is None else repr(first.source)
    return [f"the first code cell is not the setup cell (fix: python tools/setup_cell.py --write).\n"
            f"expected {expected!r}\nfound    {found}"]


def nbgrader_mark_problems(nb: nbformat.NotebookNode) -> list[str]:
    """The notebook is not in the nbgrader form that ``student_edition.py --mark`` gives it."""
    marked = mark_notebook(nb)
    if marked == nb:
        return []
    changed = [i for i, (a, b) in enumerate(zip(nb.cells, marked.cells)) if a != b] or [len(nb.cells)]
    return [f"exercise cells are not in nbgrader form from cell {changed[0]} on, so nbgrader would release "
            "solution text (fix: python tools/student_edition.py --mark)"]


def kernelspec_problems(nb: nbformat.NotebookNode) -> list[str]:
    name = nb.metadata.get("kernelspec", {}).get("name")
    return [] if name == "python3" else [f"kernelspec name {name!r}, expected 'python3'"]


def ignore_tag_problems(nb: nbformat.NotebookNode) -> list[str]:
    """``nbval-ignore-output`` on a cell that neither trains (``fit(``) nor times anything."""
    problems = []
    for i, cell in enumerate(nb.cells):
        tagged = IGNORE_TAG in cell.metadata.get("tags", []) or "NBVAL_IGNORE_OUTPUT" in cell.source
        if cell.cell_type == "code" and tagged and not NONDETERMINISTIC_RE.search(cell.source):
            problems.append(
                f"{IGNORE_TAG} on a cell that neither trains (fit( or train() nor times anything; its output would go "
                f"unchecked (assert the claim elsewhere, or remove the tag): {show(i, cell)}"
            )
    return problems


def toc_problems(root: Path) -> list[str]:
    """Notebooks and pages under ``root/chapters`` that ``root/_toc.yml`` does not list."""
    listed = {str(Path(f).with_suffix("")) for f in toc_files(yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8")))}
    pages = [p for p in sorted((root / "chapters").rglob("*")) if p.suffix in (".ipynb", ".md")]
    pages = [p for p in pages if not {".ipynb_checkpoints", "_build"}.intersection(p.parts)]
    return [f"{p.relative_to(root)} is not listed in _toc.yml" for p in pages if str(p.relative_to(root).with_suffix("")) not in listed]


def all_problems(path: Path, config: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return (execution_problems(nb) + output_problems(nb) + figure_problems(nb) + setup_cell_problems(nb, config)
            + kernelspec_problems(nb) + ignore_tag_problems(nb) + nbgrader_mark_problems(nb) + caption_problems(nb, path.stem))


def fail_if(problems: list[str], what: str) -> None:
    if problems:
        pytest.fail(f"{what}:\n" + "\n".join(problems), pytrace=False)


# ---------------------------------------------------------------------------------------
# The chapters


def _params() -> list:
    if not CHAPTERS:
        return [pytest.param(None, marks=pytest.mark.skip(reason="no chapter notebooks under chapters/ yet"), id="none")]
    return [pytest.param(p, id=p.stem) for p in CHAPTERS]


@pytest.fixture(params=_params())
def notebook(request: pytest.FixtureRequest) -> tuple[Path, nbformat.NotebookNode]:
    return request.param, nbformat.read(request.param, as_version=4)


def test_executed_in_order(notebook) -> None:
    path, nb = notebook
    fail_if(execution_problems(nb), str(path.relative_to(REPO_ROOT)))


def test_outputs_clean(notebook) -> None:
    """No errors, no machine paths, no 'Units.' glitch, no output over ~200 kB."""
    path, nb = notebook
    fail_if(output_problems(nb), str(path.relative_to(REPO_ROOT)))


def test_figures_stored(notebook) -> None:
    """Every cell that draws a figure stores it."""
    path, nb = notebook
    fail_if(figure_problems(nb), str(path.relative_to(REPO_ROOT)))


def test_setup_cell(notebook) -> None:
    path, nb = notebook
    config = REPO_ROOT / "_config.yml"
    if not config.exists():
        pytest.skip("no _config.yml yet")
    fail_if(setup_cell_problems(nb, config), str(path.relative_to(REPO_ROOT)))


def test_kernelspec(notebook) -> None:
    path, nb = notebook
    fail_if(kernelspec_problems(nb), str(path.relative_to(REPO_ROOT)))


def test_nbgrader_marks(notebook) -> None:
    path, nb = notebook
    fail_if(nbgrader_mark_problems(nb), str(path.relative_to(REPO_ROOT)))


def test_ignore_output_tags(notebook) -> None:
    path, nb = notebook
    fail_if(ignore_tag_problems(nb), str(path.relative_to(REPO_ROOT)))


def test_figures_captioned(notebook) -> None:
    """Every stored image is a figure with a caption and a ``fig-<chapter>-`` name."""
    path, nb = notebook
    fail_if(caption_problems(nb, path.stem), str(path.relative_to(REPO_ROOT)))


def test_labels_unique() -> None:
    """No figure name or label is defined twice in the book."""
    fail_if(duplicate_label_problems(book_labels(REPO_ROOT)), "labels")


def test_toc_lists_every_chapter() -> None:
    if not (REPO_ROOT / "_toc.yml").exists():
        pytest.skip("no _toc.yml yet")
    if not (REPO_ROOT / "chapters").is_dir():
        pytest.skip("no chapters/ yet")
    fail_if(toc_problems(REPO_ROOT), "_toc.yml")


# ---------------------------------------------------------------------------------------
# The checks themselves


def test_fixture_chapter_passes() -> None:
    """A well-formed chapter passes every check."""
    fail_if(all_problems(FIXTURE_BOOK / "chapters" / "demo.ipynb", FIXTURE_BOOK / "_config.yml"), "fixture")
    fail_if(toc_problems(FIXTURE_BOOK), "fixture _toc.yml")


def test_checks_catch_problems() -> None:
    """Each check fires on a notebook that breaks its rule."""
    nb = nbformat.read(FIXTURE_BOOK / "chapters" / "demo.ipynb", as_version=4)
    cells = [c for _, c in code_cells(nb)]
    cells[2].execution_count = 7
    cells[3].outputs.append(nbformat.v4.new_output("stream", text="saved to /home/me/data/x.pt\n"))
    cells[3].outputs.append(nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[]))
    cells[3].outputs.append(nbformat.v4.new_output("display_data", data={"image/png": "A" * (MAX_OUTPUT_BYTES + 1)}))
    cells[3].metadata["tags"] = [IGNORE_TAG]
    cells[0].source = cells[0].source.replace("v0.1.0", "main")
    nb.metadata["kernelspec"]["name"] = "venv"
    assert len(execution_problems(nb)) == 1
    problems = output_problems(nb)
    assert [p.split(" ", 2)[:2] for p in problems] == [["machine", "path"], ["stored", "error"], ["an", "output"]]
    assert setup_cell_problems(nb, FIXTURE_BOOK / "_config.yml")
    assert kernelspec_problems(nb)
    assert len(ignore_tag_problems(nb)) == 1
    assert not figure_problems(nb)
    cells[1].source += "\nfig = diagrams.draw(net, (1, 1, 32, 32))\nplt.show()"
    assert len(figure_problems(nb)) == 1
    cells[1].outputs.append(nbformat.v4.new_output("display_data", data={"image/png": "iVBO"}))
    assert not figure_problems(nb)
    assert len(caption_problems(nb, "demo")) == 4  # no caption, no name: cell 1's image and cell 3's oversized one
    cells[3].outputs.pop()
    assert [p.split(" (")[0] for p in caption_problems(nb, "demo")] == ["an image without a caption", "figure name None, expected 'fig-demo-<short-name>'"]
    cells[1].metadata["mystnb"] = {"figure": {"caption": "A drawing of the network.", "name": "fig-demo-net"}}
    assert not caption_problems(nb, "demo")
    assert caption_problems(nb, "other_chapter")  # another chapter's prefix
    cells[1].metadata["mystnb"]["figure"]["caption"] = "  "
    assert len(caption_problems(nb, "demo")) == 1
    cells[1].metadata["mystnb"]["figure"] = {"caption": "A drawing.", "name": "fig-demo-Net 1"}
    assert len(caption_problems(nb, "demo")) == 1
    assert not nbgrader_mark_problems(nb)
    solution = next(c for c in nb.cells if c.cell_type == "markdown" and "{solution-start}" in c.source)
    solution.metadata.pop("nbgrader")
    assert nbgrader_mark_problems(nb)
    assert setup_cell.render(FIXTURE_BOOK / "_config.yml").endswith(
        '"cnnzoo @ git+https://github.com/example/cnn-zoo-book@v0.1.0#subdirectory=code"'
    )


def test_find_notebooks(tmp_path: Path) -> None:
    """The one notebook discovery of the tools: sorted, checkpoints and builds skipped below the folder only."""
    root = tmp_path / "_build" / "book"  # a skipped name above the folder searched does not matter
    for name in ("chapters/b.ipynb", "chapters/a.ipynb", "chapters/sub/c.ipynb", "chapters/.ipynb_checkpoints/a-checkpoint.ipynb",
                 "chapters/_build/x.ipynb", "chapters/notes.md"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("{}", encoding="utf-8")
    chapters = root / "chapters"
    expected = [chapters / "a.ipynb", chapters / "b.ipynb", chapters / "sub" / "c.ipynb"]
    assert setup_cell.chapter_notebooks(root) == expected
    assert find_notebooks([chapters, tmp_path / "given.ipynb"]) == [*expected, tmp_path / "given.ipynb"]
    assert setup_cell.chapter_notebooks(tmp_path) == []
    import bench
    import student_edition
    assert bench.find_notebooks is find_notebooks and student_edition.chapter_notebooks is chapter_notebooks


def test_duplicate_labels_found(tmp_path: Path) -> None:
    """A figure name used twice, or equal to a Markdown label, is reported; distinct ones are not."""
    chapters = tmp_path / "chapters"
    chapters.mkdir()

    def chapter(stem: str, figure_name: str, markdown: str) -> None:
        figure = nbformat.v4.new_code_cell("fig", metadata={"mystnb": {"figure": {"caption": "A figure.", "name": figure_name}}})
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown), figure]), chapters / f"{stem}.ipynb")

    chapter("a", "fig-a-net", "```{exercise-start}\n:label: a-sizes\n```\n")
    chapter("b", "fig-b-net", "(b-intro)=\n# B\n")
    (chapters / "intro.md").write_text("(intro-top)=\n# Intro\n", encoding="utf-8")
    labels = book_labels(tmp_path)
    assert sorted(name for name, _ in labels) == ["a-sizes", "b-intro", "fig-a-net", "fig-b-net", "intro-top"]
    assert not duplicate_label_problems(labels)
    chapter("b", "fig-a-net", "(a-sizes)=\n# B\n")
    problems = duplicate_label_problems(book_labels(tmp_path))
    assert sorted(p.split(" is defined")[0] for p in problems) == ["'a-sizes'", "'fig-a-net'"]
    assert any("chapters/b.ipynb, cell 1 (figure)" in p for p in problems)
