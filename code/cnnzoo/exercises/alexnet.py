"""Self-checks for the exercises of the AlexNet and ZFNet chapter (``chapters/alexnet.ipynb``)."""

from __future__ import annotations

__all__: list[str] = []
