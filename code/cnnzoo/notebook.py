"""Small helpers for the book's notebooks.

``glue`` hands a computed value to the book, so that the prose can quote it
(``{glue:text}`name:,``` in a Markdown cell) instead of a number typed by hand. In the
book it is myst-nb's ``glue``; where myst-nb is not installed (Colab, a plain Jupyter) it
does nothing, and the notebook runs the same.
"""

from __future__ import annotations

from typing import Any

__all__ = ["glue"]


def glue(name: str, value: Any) -> None:
    """Record ``value`` under ``name`` for the book's prose, without showing it."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # not building the book: nothing to record
        return
    myst_glue(name, value, display=False)
