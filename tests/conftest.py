"""Shared pytest setup: the ``tools/`` folder on the import path, and the suite's options."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tools"))


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--student-dir``: check an already built student edition instead of building one."""
    parser.addoption(
        "--student-dir",
        default=None,
        help="a student edition made by tools/student_edition.py (and, if built, its HTML "
        "under DIR/_build/html) to check; default: build the notebooks into a temporary folder",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers the suite uses."""
    config.addinivalue_line("markers", "slow: executes a notebook or builds a book (seconds to a minute); deselect with -m 'not slow'")
