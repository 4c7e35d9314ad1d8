"""Self-checks for the exercises of the FractalNet chapter (``chapters/fractalnet.ipynb``)."""

from __future__ import annotations

__all__: list[str] = []
