"""Self-checks for the exercises of the VGG chapter (``chapters/vgg.ipynb``)."""

from __future__ import annotations

__all__: list[str] = []
