"""Numbers about a network: per-layer tables, receptive fields, and the paper side by side.

Every function here is a pure function of ``(model, input_size)`` or of a list of layers:
it runs at most one forward pass on zeros and changes nothing in the model.

    layer_table(model, input_size)   output shape, parameters, multiply-adds and activation
                                     memory of every layer, from forward hooks
    count_parameters(model)          trainable parameters
    count_macs(model, input_size)    multiply-accumulates, from torch.utils.flop_counter
    receptive_field(layers)          size, jump (stride) and start of each layer's receptive field
    compare(ours, paper)             the package's numbers beside a paper's, with the difference
    summary(model, input_size)       torchinfo's summary, with its Python 3.11 units glitch fixed
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ._forward import check_input_size, forward_on_zeros, model_device

__all__ = [
    "Table",
    "LayerRow",
    "LayerTable",
    "ReceptiveFieldRow",
    "count_parameters",
    "count_macs",
    "layer_table",
    "receptive_field",
    "compare",
    "summary",
]


# --------------------------------------------------------------------------- a plain table


class Table:
    """A small table that prints as aligned text and shows as HTML in a notebook."""

    def __init__(self, headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
        self.headers = list(headers)
        self.rows = [list(row) for row in rows]
        self.title = title

    @staticmethod
    def _cell(value: Any) -> str:
        if isinstance(value, bool) or value is None:
            return "—" if value is None else str(value)
        if isinstance(value, int):
            return f"{value:,}"
        if isinstance(value, float):
            return f"{value:,.2f}"
        if isinstance(value, tuple):
            return "×".join(str(v) for v in value)
        return str(value)

    def _text_rows(self) -> list[list[str]]:
        return [[self._cell(v) for v in row] for row in self.rows]

    def __str__(self) -> str:
        body = self._text_rows()
        widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(self.headers)]

        def line(cells: Sequence[str]) -> str:
            first, *rest = cells
            return "  ".join([first.ljust(widths[0])] + [c.rjust(w) for c, w in zip(rest, widths[1:])])

        lines = [self.title] if self.title else []
        lines += [line(self.headers), "  ".join("-" * w for w in widths)]
        lines += [line(r) for r in body]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        def cell(tag: str, text: str, column: int) -> str:
            align = "left" if column == 0 else "right"  # names left, numbers right, as in __str__
            return f'<{tag} style="text-align:{align}; padding:2px 12px">{html.escape(text)}</{tag}>'

        head = "".join(cell("th", h, i) for i, h in enumerate(self.headers))
        body = "".join(
            "<tr>" + "".join(cell("td", c, i) for i, c in enumerate(row)) + "</tr>" for row in self._text_rows()
        )
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# --------------------------------------------------------------------------- counting


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """The number of (trainable) parameters: the sum of ``p.numel()`` over ``model.parameters()``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_macs(model: nn.Module, input_size: tuple[int, ...]) -> int:
    """Multiply-accumulates of one forward pass on ``torch.zeros(input_size)``.

    Counted by PyTorch's ``FlopCounterMode``, which counts the matrix products
    (convolutions, linear layers, batched matmuls) and reports 2 FLOPs per
    multiply-accumulate; element-wise work (activations, pooling, additions) is not counted,
    which is the usual convention for "mult-adds" in papers.
    """
    with FlopCounterMode(display=False) as counter:
        forward_on_zeros(model, input_size)
    return counter.get_total_flops() // 2


# --------------------------------------------------------------------------- per-layer table


@dataclass(frozen=True)
class LayerRow:
    """One row of a layer table.

    ``macs`` are multiply-accumulates (from ``FlopCounterMode``: FLOPs / 2) and
    ``activation_bytes`` is the size of the layer's output for the whole batch.
    """

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    macs: int
    activation_bytes: int


class LayerTable(Table):
    """The per-layer table of a model for one input size (see :func:`layer_table`)."""

    def __init__(self, rows: list[LayerRow], input_size: tuple[int, ...], title: str | None = None) -> None:
        self.layers = rows
        self.input_size = input_size
        shown = [
            [r.name, r.kind, r.output_shape[1:], r.params, r.macs, r.activation_bytes / 1024]
            for r in rows
        ]
        shown.append(["total", "", "", self.total_params, self.total_macs, self.total_activation_bytes / 1024])
        super().__init__(["layer", "type", "output (C×H×W)", "params", "mult-adds", "activations (KiB)"], shown, title)

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.layers)

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.layers)

    @property
    def total_activation_bytes(self) -> int:
        return sum(r.activation_bytes for r in self.layers)

    def __getitem__(self, name: str) -> LayerRow:
        for row in self.layers:
            if row.name == name:
                return row
        raise KeyError(f"no layer named {name!r}; layers: {', '.join(r.name for r in self.layers)}")


def _layers_at_depth(model: nn.Module, depth: int) -> dict[str, nn.Module]:
    """Modules ``depth`` levels below the model, and leaves that stop above that depth."""
    chosen = {}
    for name, module in model.named_modules():
        if not name:
            continue
        level = name.count(".") + 1
        if level == depth or (level < depth and not any(True for _ in module.children())):
            chosen[name] = module
    return chosen


def layer_table(model: nn.Module, input_size: tuple[int, ...], depth: int = 1) -> LayerTable:
    """Output shape, parameters, multiply-adds and activation memory of each layer.

    One forward pass on ``torch.zeros(input_size)`` in eval mode, with a forward hook on
    every module ``depth`` levels down (1: the model's direct children). Rows come in the
    order the layers run; a layer that never runs is left out. Multiply-adds come from
    ``torch.utils.flop_counter.FlopCounterMode`` (FLOPs / 2, matrix products only).

    Args:
        model: any ``nn.Module``.
        input_size: the input's shape with the batch first, e.g. ``(1, 1, 32, 32)``.
        depth: how many levels of submodules to descend (1 = direct children).
    """
    input_size = check_input_size(input_size)
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int; got {depth!r}")
    layers = _layers_at_depth(model, depth)
    outputs: dict[str, torch.Tensor] = {}

    def remember(name: str):
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            outputs[name] = output[0] if isinstance(output, (tuple, list)) else output

        return hook

    handles = [module.register_forward_hook(remember(name)) for name, module in layers.items()]
    try:
        with FlopCounterMode(display=False) as counter:
            forward_on_zeros(model, input_size)
    finally:
        for handle in handles:
            handle.remove()

    flops = counter.get_flop_counts()
    prefix = type(model).__name__
    rows = []
    for name in outputs:  # the order the hooks fired
        out = outputs[name]
        module = layers[name]
        rows.append(
            LayerRow(
                name=name,
                kind=type(module).__name__,
                output_shape=tuple(out.shape),
                params=count_parameters(module),
                macs=sum(flops.get(f"{prefix}.{name}", {}).values()) // 2,
                activation_bytes=out.numel() * out.element_size(),
            )
        )
    return LayerTable(rows, input_size, title=f"{prefix}, input {'×'.join(map(str, input_size))}")


# --------------------------------------------------------------------------- receptive fields


@dataclass(frozen=True)
class ReceptiveFieldRow:
    """The receptive field of one unit in a layer's output, in input pixels.

    ``size`` is the side of the square of input pixels that can affect the unit, ``jump``
    is the distance in input pixels between neighbouring units (the product of the strides
    so far), and ``start`` is the centre of the first unit's field (pixel centres at 0, 1, ...;
    a negative start means the field hangs over the padding).
    """

    name: str
    kernel: int
    stride: int
    padding: int
    size: int
    jump: int
    start: float


def _first(value: int | tuple[int, ...]) -> int:
    return value[0] if isinstance(value, tuple) else value


def _spatial_layers(model: nn.Module) -> list[tuple[str, int, int, int, int]]:
    """(name, kernel, stride, padding, dilation) for every module with a ``kernel_size``, in order."""
    found = []
    for name, module in model.named_modules():
        if hasattr(module, "kernel_size") and hasattr(module, "stride"):
            if any(name.startswith(done + ".") for done, *_ in found):
                continue  # inside a layer already counted (e.g. the small convs of a PartialConv2d)
            found.append(
                (
                    name,
                    _first(module.kernel_size),
                    _first(module.stride if module.stride is not None else module.kernel_size),
                    _first(getattr(module, "padding", 0)),
                    _first(getattr(module, "dilation", 1)),
                )
            )
    return found


def receptive_field(
    layers: nn.Module | Iterable[tuple],
) -> Table:
    """The receptive field of every layer of a chain of convolutions and poolings.

    With kernel k, stride s, padding p and dilation d (effective kernel k' = d(k - 1) + 1),
    going from layer l-1 to layer l (Araujo, Norris and Sim, "Computing receptive fields of
    convolutional neural networks", Distill 2019):

        size_l  = size_{l-1} + (k' - 1) * jump_{l-1}
        jump_l  = jump_{l-1} * s
        start_l = start_{l-1} + ((k' - 1) / 2 - p) * jump_{l-1}

    starting from one input pixel: size 1, jump 1, start 0.

    Args:
        layers: a sequential model (every submodule with ``kernel_size`` and ``stride``, in
            registration order), or tuples ``(name, kernel, stride[, padding[, dilation]])``.

    Returns:
        A :class:`Table`; ``table.layers`` holds the :class:`ReceptiveFieldRow` objects.
    """
    if isinstance(layers, nn.Module):
        specs = _spatial_layers(layers)
    else:
        specs = []
        for item in layers:
            if not isinstance(item, (tuple, list)) or not 3 <= len(item) <= 5:
                raise ValueError(
                    f"each layer must be (name, kernel, stride[, padding[, dilation]]); got {item!r}"
                )
            name, kernel, stride, *rest = item
            padding = rest[0] if len(rest) > 0 else 0
            dilation = rest[1] if len(rest) > 1 else 1
            specs.append((str(name), kernel, stride, padding, dilation))
    if not specs:
        raise ValueError("no layers with a kernel: give a model with convolutions/poolings or a list of tuples")
    rows: list[ReceptiveFieldRow] = []
    size, jump, start = 1, 1, 0.0
    for name, kernel, stride, padding, dilation in specs:
        for label, value in (("kernel", kernel), ("stride", stride), ("dilation", dilation)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"layer {name!r}: {label} must be a positive int; got {value!r}")
        if not isinstance(padding, int) or padding < 0:
            raise ValueError(f"layer {name!r}: padding must be a non-negative int; got {padding!r}")
        effective = dilation * (kernel - 1) + 1
        start = start + ((effective - 1) / 2 - padding) * jump
        size = size + (effective - 1) * jump
        jump = jump * stride
        rows.append(ReceptiveFieldRow(name, kernel, stride, padding, size, jump, start))
    table = Table(
        ["layer", "kernel", "stride", "padding", "receptive field", "jump", "start"],
        [[r.name, r.kernel, r.stride, r.padding, r.size, r.jump, r.start] for r in rows],
    )
    table.layers = rows
    return table


# --------------------------------------------------------------------------- beside the paper


def compare(
    ours: Mapping[str, int | float],
    paper: Mapping[str, int | float],
    source: str,
    what: str = "value",
    names: tuple[str, str] = ("cnnzoo", "paper"),
) -> Table:
    """Lay the package's numbers beside a paper's, with the difference ``ours - paper``.

    Rows follow the paper's order, then any names only we have; a number missing on one
    side shows as "—".

    Args:
        ours: name -> number computed by the package.
        paper: name -> number printed in the paper.
        source: where the paper's numbers come from (e.g. "LeCun et al. 1998, Sec. II.B").
        what: what the numbers are (a column title, e.g. "parameters").
        names: the two columns' names, when the second is not a paper.
    """
    for label, mapping in (("ours", ours), ("paper", paper)):
        if not isinstance(mapping, Mapping):
            raise ValueError(f"{label} must be a mapping of name -> number; got {type(mapping).__name__}")
    keys = list(paper) + [key for key in ours if key not in paper]
    rows = []
    for name in keys:
        a, b = ours.get(name), paper.get(name)
        difference = a - b if a is not None and b is not None else None
        rows.append([name, a, b, difference])
    headers = ["", f"{what} ({names[0]})", f"{what} ({names[1]})", "difference"]
    table = Table(headers, rows, title=f"{names[1]}: {source}")
    table.differences = {row[0]: row[3] for row in rows}
    return table


# --------------------------------------------------------------------------- torchinfo


_UNITS = re.compile(r"Units\.([A-Z]+)")


class Summary:
    """torchinfo's ``ModelStatistics`` with its text repaired (see :func:`summary`)."""

    def __init__(self, statistics: Any) -> None:
        self.statistics = statistics

    def __str__(self) -> str:
        import torchinfo

        return _UNITS.sub(lambda m: torchinfo.Units[m.group(1)].value, str(self.statistics))

    __repr__ = __str__

    def __getattr__(self, name: str) -> Any:  # total_params, total_mult_adds, ...
        return getattr(self.statistics, name)


def summary(model: nn.Module, input_size: tuple[int, ...], **kwargs: Any) -> Summary:
    """``torchinfo.summary`` with the layers' names shown, and its units glitch fixed.

    Under Python 3.11+ torchinfo 1.8 prints ``Total mult-adds (Units.MEGABYTES)`` because
    Python 3.11 changed how ``format()`` shows a ``str``-mixin enum; the text is repaired
    to ``Total mult-adds (M)``. Everything else is torchinfo's.
    """
    import torchinfo

    input_size = check_input_size(input_size)
    kwargs.setdefault("row_settings", ("var_names",))
    kwargs.setdefault("col_names", ("output_size", "num_params", "mult_adds"))
    kwargs.setdefault("device", model_device(model))
    return Summary(torchinfo.summary(model, input_size=input_size, verbose=0, **kwargs))
