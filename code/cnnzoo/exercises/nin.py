"""Self-checks for the exercises of the Network in Network chapter (``chapters/nin.ipynb``)."""

from __future__ import annotations

__all__: list[str] = []
