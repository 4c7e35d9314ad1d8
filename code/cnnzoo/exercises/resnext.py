"""Self-checks for the exercises of chapters/resnext.ipynb (being written)."""

from __future__ import annotations

__all__: list[str] = []
