"""cnnzoo.notebook: glue works with myst-nb and is a silent no-op without it."""

from __future__ import annotations

import builtins

from cnnzoo.notebook import glue


def test_glue_without_myst_nb_does_nothing(monkeypatch):
    real_import = builtins.__import__

    def no_myst_nb(name, *args, **kwargs):
        if name.startswith("myst_nb"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_myst_nb)
    assert glue("answer", 42) is None


def test_glue_with_myst_nb_records_the_value(monkeypatch):
    import myst_nb

    recorded = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: recorded.update({name: (value, display)}))
    glue("answer", 42)
    assert recorded == {"answer": (42, False)}
