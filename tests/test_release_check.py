"""tools/release_check.py: a release fails, saying what to fix, until the repository is ready."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml

import release_check
import setup_cell

REAL_URL = "https://github.com/someone/cnn-book"


def make_book(root: Path, url: str = REAL_URL, branch: str = "v0.2.0", version: str = "0.2.0") -> Path:
    """A minimal book under ``root``: ``_config.yml``, two chapters with the setup cell, a pyproject."""
    config = {"title": "t", "repository": {"url": url, "path_to_book": "", "branch": branch}}
    (root / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (root / "chapters").mkdir()
    cell = setup_cell.render(root / "_config.yml")
    for name in ("a", "b"):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A"), nbformat.v4.new_code_cell(cell)])
        nbformat.write(nb, root / "chapters" / f"{name}.ipynb")
    (root / "code").mkdir()
    (root / "code" / "pyproject.toml").write_text(f'[project]\nname = "cnnzoo"\nversion = "{version}"\n', encoding="utf-8")
    return root


def set_repository(root: Path, **values: str) -> None:
    """Change ``repository`` keys of the book's ``_config.yml`` (the setup cells are left as they were)."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    config["repository"].update(values)
    (root / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")


def test_a_ready_book_passes(tmp_path: Path) -> None:
    root = make_book(tmp_path)
    assert release_check.release_problems(root, "v0.2.0", "someone/cnn-book") == []
    assert release_check.release_problems(root, "v0.2.0", None) == []
    assert release_check.main(["--root", str(root), "--tag", "v0.2.0"]) == 0


def test_the_url_ending_in_git_or_a_slash_and_the_owner_in_other_case_pass(tmp_path: Path) -> None:
    root = make_book(tmp_path, url=REAL_URL + ".git")
    assert release_check.release_problems(root, "v0.2.0", "SomeOne/CNN-book") == []
    set_repository(root, url=REAL_URL + "/")
    assert release_check.release_problems(root, "v0.2.0", "someone/cnn-book") == []


def test_the_placeholder_url_fails(tmp_path: Path) -> None:
    (placeholder,) = release_check.PLACEHOLDER_URLS
    root = make_book(tmp_path, url=placeholder)
    problems = release_check.release_problems(root, "v0.2.0", None)
    assert len(problems) == 1 and "still the placeholder" in problems[0], problems


def test_the_repository_s_placeholder_is_recorded() -> None:
    url, _ = release_check.load_repository(release_check.REPO_ROOT / "_config.yml")
    if url not in release_check.PLACEHOLDER_URLS:
        pytest.skip(f"_config.yml names a real repository now ({url})")
    problems = release_check.release_problems(release_check.REPO_ROOT, "v0.1.0", None)
    assert any("still the placeholder" in p for p in problems), problems


def test_another_repository_than_the_one_built_fails(tmp_path: Path) -> None:
    root = make_book(tmp_path)
    problems = release_check.release_problems(root, "v0.2.0", "someone/other-book")
    assert len(problems) == 1 and "https://github.com/someone/other-book" in problems[0], problems


@pytest.mark.parametrize("url", ["", "github.com/someone/cnn-book", "http://github.com/someone/cnn-book", "https://gitlab.com/someone/cnn-book", "https://github.com/someone"])
def test_a_missing_or_malformed_url_fails(tmp_path: Path, url: str) -> None:
    root = make_book(tmp_path)
    set_repository(root, url=url)
    problems = release_check.release_problems(root, "v0.2.0", None)
    assert problems and "repository.url" in problems[0], problems


def test_a_branch_that_is_not_the_tag_fails(tmp_path: Path) -> None:
    root = make_book(tmp_path, branch="main")
    problems = release_check.release_problems(root, "v0.2.0", None)
    assert len(problems) == 1 and "repository.branch is 'main'" in problems[0], problems


def test_no_tag_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_book(tmp_path)
    monkeypatch.delenv("GITHUB_REF_NAME", raising=False)
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    assert release_check.main(["--root", str(root)]) == 1
    assert any("which tag" in p for p in release_check.release_problems(root, None, None))


def test_the_tag_comes_from_github_ref_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_book(tmp_path)
    monkeypatch.setenv("GITHUB_REPOSITORY", "someone/cnn-book")
    monkeypatch.setenv("GITHUB_REF_NAME", "v0.2.0")
    assert release_check.main(["--root", str(root)]) == 0
    monkeypatch.setenv("GITHUB_REF_NAME", "v0.3.0")
    assert release_check.main(["--root", str(root)]) == 1
    monkeypatch.setenv("GITHUB_REF_NAME", "v0.2.0")
    monkeypatch.setenv("GITHUB_REPOSITORY", "someone/fork")
    assert release_check.main(["--root", str(root)]) == 1


def test_a_tag_that_is_not_the_package_version_fails(tmp_path: Path) -> None:
    root = make_book(tmp_path, branch="v0.3.0")
    problems = release_check.release_problems(root, "v0.3.0", None)
    assert problems == ["the tag 'v0.3.0' does not match the package version '0.2.0' in code/pyproject.toml (expected v0.2.0)"]


def test_a_stale_setup_cell_fails(tmp_path: Path) -> None:
    root = make_book(tmp_path)
    path = root / "chapters" / "b.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("@v0.2.0", "@v0.1.0")
    nbformat.write(nb, path)
    problems = release_check.release_problems(root, "v0.2.0", None)
    assert problems == ["setup cell out of date in chapters/b.ipynb: run python tools/setup_cell.py --write"]


def test_setting_the_url_without_regenerating_the_setup_cells_fails(tmp_path: Path) -> None:
    root = make_book(tmp_path)
    set_repository(root, url="https://github.com/someone/renamed-book")
    problems = release_check.release_problems(root, "v0.2.0", "someone/renamed-book")
    assert problems == ["setup cell out of date in chapters/a.ipynb, chapters/b.ipynb: run python tools/setup_cell.py --write"]


def test_no_config_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="expected the book's _config.yml"):
        release_check.release_problems(tmp_path, "v0.2.0", None)
    assert release_check.main(["--root", str(tmp_path), "--tag", "v0.2.0"]) == 1
    assert "expected the book's _config.yml" in capsys.readouterr().err
