"""cnnzoo: classic convolutional networks, written to be read beside their papers.

Modules:
    models     one module per paper, and a registry: ``available()``, ``build(name)``
    analysis   per-layer tables, multiply-adds, receptive fields, paper comparisons
    diagrams   architecture figures drawn from a model
    data       offline quick-mode data and full-mode datasets on request
    training   a small fit/evaluate loop with a history
    exercises  self-checks for the chapters' exercises
"""

__version__ = "0.1.0"
