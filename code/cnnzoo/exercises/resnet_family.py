"""Self-checks for the exercises of chapters/resnet_family.ipynb (being written)."""

from __future__ import annotations

__all__: list[str] = []
