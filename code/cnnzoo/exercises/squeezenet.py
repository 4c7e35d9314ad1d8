"""Self-checks for the exercises of the SqueezeNet chapter (``chapters/squeezenet.ipynb``)."""

from __future__ import annotations

__all__: list[str] = []
