#!/usr/bin/env python3
"""Check that the repository is ready to publish a release (see RELEASING.md).

A release is the book built from a tag and deployed to GitHub Pages; readers open its chapters
in Colab, where each chapter's setup cell installs ``cnnzoo`` from ``repository.url`` at
``repository.branch`` (``_config.yml``). So before building, this check fails, saying what to
fix, when:

* ``repository.url`` is missing, not ``https://github.com/OWNER/NAME``, or still the
  placeholder the book was written with (``PLACEHOLDER_URLS``: the real repository did not
  exist yet);
* ``GITHUB_REPOSITORY`` is set (as in GitHub Actions) and the URL does not name that
  repository;
* ``repository.branch`` is not the tag being released (``--tag``, else ``GITHUB_REF_NAME``);
* the tag is not ``v`` followed by the package version in ``code/pyproject.toml``;
* a chapter's setup cell differs from the one rendered from ``_config.yml``.

Usage:
    python tools/release_check.py --tag v0.2.0    # before tagging
    python tools/release_check.py                 # in GitHub Actions: the tag is GITHUB_REF_NAME
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tomllib
from pathlib import Path

import nbformat
import yaml

from setup_cell import _clean_url, chapter_notebooks, first_code_cell, matches, render

REPO_ROOT = Path(__file__).resolve().parents[1]

#: Repository URLs that are not (yet) a real repository: the one the book was written with.
PLACEHOLDER_URLS = frozenset({"https://github.com/cnnzoo/cnn-architectures-book"})

GITHUB_URL_RE = re.compile(r"^https://github\.com/(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)$")


def load_repository(config_path: Path) -> tuple[str, str]:
    """``repository.url`` (cleaned of a trailing ``/`` or ``.git``) and ``repository.branch``.

    Args:
        config_path: the book's ``_config.yml``.

    Raises:
        ValueError: if the file does not exist or is not a YAML mapping.
    """
    if not Path(config_path).is_file():
        raise ValueError(f"expected the book's _config.yml at {config_path}, got no such file")
    config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8")) or {}
    if not isinstance(config, dict):
        raise ValueError(f"{config_path}: expected a YAML mapping, got {type(config).__name__}")
    repository = config.get("repository") or {}
    return _clean_url(str(repository.get("url") or "")), str(repository.get("branch") or "").strip()


def package_version(pyproject_path: Path) -> str:
    """``project.version`` of a ``pyproject.toml``, or ``""`` if it has none."""
    data = tomllib.loads(Path(pyproject_path).read_text(encoding="utf-8"))
    return str(data.get("project", {}).get("version") or "")


def url_problems(url: str, github_repository: str | None) -> list[str]:
    """What is wrong with ``repository.url`` for a release (an empty list when nothing is).

    Args:
        url: ``repository.url``, cleaned.
        github_repository: ``OWNER/NAME`` of the repository being built (``GITHUB_REPOSITORY``),
            or None outside GitHub Actions.
    """
    if not url:
        return ["repository.url is not set in _config.yml"]
    match = GITHUB_URL_RE.match(url)
    if not match:
        return [f"repository.url must be https://github.com/OWNER/NAME (the launch buttons and setup cells need it); got {url!r}"]
    problems = []
    if url in PLACEHOLDER_URLS:
        problems.append(
            f"repository.url is still the placeholder {url}: set it to the repository the book is "
            "published from (then python tools/setup_cell.py --write)"
        )
    if github_repository and match["repo"].lower() != github_repository.strip().lower():
        problems.append(
            f"repository.url names {match['repo']}, but this is {github_repository}: "
            f"set repository.url to https://github.com/{github_repository}"
        )
    return problems


def tag_problems(branch: str, tag: str | None, version: str) -> list[str]:
    """What is wrong with ``repository.branch`` and the tag being released.

    Args:
        branch: ``repository.branch``.
        tag: the tag being released, or None if nobody said which.
        version: the package version in ``code/pyproject.toml`` (``""`` if unknown).
    """
    if not tag:
        return ["which tag is being released? pass --tag vX.Y.Z (GitHub Actions sets GITHUB_REF_NAME)"]
    problems = []
    if branch != tag:
        problems.append(
            f"repository.branch is {branch!r} but the tag being released is {tag!r}: the setup cells "
            f"would install another ref; set branch: {tag} (then python tools/setup_cell.py --write)"
        )
    if version and tag != f"v{version}":
        problems.append(f"the tag {tag!r} does not match the package version {version!r} in code/pyproject.toml (expected v{version})")
    return problems


def setup_cell_problems(root: Path, config_path: Path) -> list[str]:
    """The chapters whose first code cell is not the setup cell rendered from ``config_path``."""
    expected = render(config_path)
    stale = [
        path.relative_to(root).as_posix()
        for path in chapter_notebooks(root)
        if not matches(first_code_cell(nbformat.read(path, as_version=4)), expected)
    ]
    if not stale:
        return []
    return [f"setup cell out of date in {', '.join(stale)}: run python tools/setup_cell.py --write"]


def release_problems(root: Path, tag: str | None, github_repository: str | None) -> list[str]:
    """Everything that stops ``root`` from being released as ``tag`` (empty when it is ready).

    Args:
        root: the book's root, holding ``_config.yml``, ``chapters/`` and ``code/pyproject.toml``.
        tag: the tag being released, or None.
        github_repository: ``OWNER/NAME`` of the repository being built, or None.

    Raises:
        ValueError: if ``root`` has no ``_config.yml``.
    """
    root = Path(root)
    config_path = root / "_config.yml"
    url, branch = load_repository(config_path)
    pyproject = root / "code" / "pyproject.toml"
    version = package_version(pyproject) if pyproject.is_file() else ""
    problems = url_problems(url, github_repository) + tag_problems(branch, tag, version)
    if url and branch:
        problems += setup_cell_problems(root, config_path)
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the book's root folder (default: the repository)")
    parser.add_argument("--tag", default=None, help="the tag being released (default: $GITHUB_REF_NAME)")
    args = parser.parse_args(argv)
    tag = args.tag or os.environ.get("GITHUB_REF_NAME") or None
    try:
        problems = release_problems(args.root, tag, os.environ.get("GITHUB_REPOSITORY") or None)
    except ValueError as err:
        print(f"release check: {err}", file=sys.stderr)
        return 1
    if problems:
        print("release check failed (see RELEASING.md):", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"release check passed: {tag} is ready to publish")
    return 0


if __name__ == "__main__":
    sys.exit(main())
