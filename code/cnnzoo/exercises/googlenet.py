"""Self-checks for the exercises of the GoogLeNet chapter (``chapters/googlenet.ipynb``)."""

from __future__ import annotations

__all__: list[str] = []
