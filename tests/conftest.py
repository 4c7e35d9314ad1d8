"""Shared pytest setup: the ``tools/`` folder on the import path, and the suite's options."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

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
    parser.addoption(
        "--book-dir",
        action="append",
        default=[],
        help="a built HTML book (e.g. _build/html) for tests/test_built_book.py to check; repeatable; "
        "default: its checks of a built book are skipped",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers the suite uses."""
    config.addinivalue_line("markers", "slow: executes a notebook or builds a book (seconds to a minute); deselect with -m 'not slow'")


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one thread for a module's tests (``pytestmark = pytest.mark.usefixtures("one_thread")``).

    Their models are small: extra threads only spin, and slow down on a busy machine.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
