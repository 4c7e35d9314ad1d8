#!/usr/bin/env python3
"""The setup cell shared by every chapter, generated from ``_config.yml``.

The repository URL lives in one place, ``_config.yml``'s ``repository.url``, and
``repository.branch`` is the pinned ref that both the Colab launch buttons and the
setup cell install from. This module renders the setup cell from those two values and
checks or rewrites the first code cell of every chapter notebook.

Usage:
    python tools/setup_cell.py            # print the setup cell
    python tools/setup_cell.py --check    # exit 1, listing notebooks whose first code cell differs
    python tools/setup_cell.py --write    # rewrite that cell in every chapter (outputs kept)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]

TEMPLATE = """\
# Setup: in Colab, install the book's package `cnnzoo` (pinned to the book's release); elsewhere do nothing.
import sys

if "google.colab" in sys.modules:
    %pip install --quiet "cnnzoo @ git+{url}@{branch}#subdirectory=code\""""


def _clean_url(url: str) -> str:
    """The repository URL without a trailing ``/`` or ``.git``."""
    url = url.strip().rstrip("/")
    if url.endswith(".git"):
        url = url[: -len(".git")].rstrip("/")
    return url


def render(config_path: Path | str) -> str:
    """Return the setup cell's source for the book configured in ``config_path``.

    Args:
        config_path: the book's ``_config.yml``; it must set ``repository.url`` and
            ``repository.branch``.

    Raises:
        ValueError: if either value is missing.
    """
    config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8")) or {}
    repository = config.get("repository") or {}
    url = str(repository.get("url") or "").strip()
    branch = str(repository.get("branch") or "").strip()
    if not url or not branch:
        raise ValueError(
            f"{config_path}: the setup cell needs repository.url and repository.branch "
            f"(got url={url!r}, branch={branch!r})"
        )
    return TEMPLATE.format(url=_clean_url(url), branch=branch)


#: Folders never searched for notebooks: Jupyter's checkpoints, builds, caches, data.
SKIP_DIRS = frozenset({".ipynb_checkpoints", "_build", "__pycache__", ".git", "data"})


def find_notebooks(targets: list[Path]) -> list[Path]:
    """The notebooks named, and those found under the folders named, each folder's sorted.

    This is the one notebook discovery of the tools (``setup_cell``, ``student_edition``,
    ``bench``). Inside a folder, notebooks under a checkpoint, build, cache or data folder
    (``SKIP_DIRS``) are skipped; the folder's own path may contain such names.

    Args:
        targets: notebook files or folders.
    """
    found: list[Path] = []
    for target in map(Path, targets):
        if target.is_dir():
            found.extend(
                p for p in sorted(target.rglob("*.ipynb")) if not SKIP_DIRS.intersection(p.relative_to(target).parts)
            )
        else:
            found.append(target)
    return found


def chapter_notebooks(root: Path) -> list[Path]:
    """Every chapter notebook under ``root/chapters``, sorted (see :func:`find_notebooks`)."""
    chapters = Path(root) / "chapters"
    return find_notebooks([chapters]) if chapters.is_dir() else []


def first_code_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The notebook's first code cell, or None if it has none."""
    return next((c for c in nb.cells if c.cell_type == "code"), None)


def matches(cell: nbformat.NotebookNode | None, expected: str) -> bool:
    """Whether ``cell`` holds the setup cell ``expected`` (trailing newlines ignored)."""
    return cell is not None and cell.source.rstrip("\n") == expected.rstrip("\n")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the book's root folder (default: the repository)")
    parser.add_argument("--config", type=Path, default=None, help="the book config (default: ROOT/_config.yml)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if a chapter's first code cell differs")
    mode.add_argument("--write", action="store_true", help="rewrite the first code cell of every chapter")
    args = parser.parse_args(argv)

    expected = render(args.config or args.root / "_config.yml")
    if not (args.check or args.write):
        print(expected)
        return 0

    differing: list[Path] = []
    for path in chapter_notebooks(args.root):
        nb = nbformat.read(path, as_version=4)
        cell = first_code_cell(nb)
        if matches(cell, expected):
            continue
        if args.check:
            differing.append(path)
        elif cell is None:
            print(f"{path}: no code cell to rewrite", file=sys.stderr)
            differing.append(path)
        else:
            cell.source = expected
            nbformat.write(nb, path)
            print(f"rewrote the setup cell of {path}")
    if args.check and differing:
        print("first code cell differs from the setup cell rendered from _config.yml:")
        for path in differing:
            print(f"  {path}")
        print("fix with: python tools/setup_cell.py --write")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
