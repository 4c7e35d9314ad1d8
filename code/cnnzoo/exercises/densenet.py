"""Self-checks for the exercises of the DenseNet chapter (``chapters/densenet.ipynb``)."""

from __future__ import annotations

__all__: list[str] = []
