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
    step_time(model, input_size)     seconds of a forward pass and of a training step (the one
                                     function here that runs real passes; it restores the model)
    saved_tensor_bytes(model, x)     bytes autograd keeps for the backward pass of one training
                                     forward pass on ``x`` (it restores the model too)
"""

from __future__ import annotations

import html
import re
import statistics
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ._forward import check_input_size, forward_on_zeros, model_device
from .graph import Node, trace

__all__ = [
    "Table",
    "LayerRow",
    "LayerTable",
    "ReceptiveFieldRow",
    "ReceptiveFieldTable",
    "count_parameters",
    "count_macs",
    "layer_table",
    "receptive_field",
    "compare",
    "summary",
    "StepTime",
    "step_time",
    "saved_tensor_bytes",
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


def count_macs(model: nn.Module, input_size: tuple[int, ...], train: bool = False) -> int:
    """Multiply-accumulates of one forward pass on ``torch.zeros(input_size)``.

    Counted by PyTorch's ``FlopCounterMode``, which counts the matrix products
    (convolutions, linear layers, batched matmuls) and reports 2 FLOPs per
    multiply-accumulate; element-wise work (activations, pooling, additions, biases) is not
    counted, which is the usual convention for "mult-adds" in papers.

    Args:
        model: any ``nn.Module``.
        input_size: the input's shape with the batch first.
        train: count the training-mode pass (GoogLeNet's auxiliary classifiers included);
            the model's mode, buffers and the random state are left as they were.
    """
    if not train:
        with FlopCounterMode(display=False) as counter:
            forward_on_zeros(model, input_size)
        return counter.get_total_flops() // 2
    input_size = check_input_size(input_size)
    was_training = model.training
    saved = {name: buffer.clone() for name, buffer in model.named_buffers()}
    model.train()
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.zeros(input_size, device=model_device(model)))
    finally:
        model.train(was_training)
        with torch.no_grad():
            for name, buffer in model.named_buffers():
                buffer.copy_(saved[name])
    return counter.get_total_flops() // 2


# --------------------------------------------------------------------------- per-layer table


@dataclass(frozen=True)
class LayerRow:
    """One row of a layer table: one call of a layer or function, or a group of them.

    ``macs`` are multiply-accumulates (from ``FlopCounterMode``: FLOPs / 2) and
    ``activation_bytes`` is the memory the row's outputs newly take for the whole batch
    (0 for an in-place ReLU or a view such as ``flatten``).
    """

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    macs: int
    activation_bytes: int


class LayerTable(Table):
    """The per-layer table of a model for one input size (see :func:`layer_table`).

    ``not_run`` maps the modules whose parameters this pass never used (GoogLeNet's
    auxiliary classifiers in eval mode) to their parameter counts; they are shown on a last
    line and are not in ``total_params``.
    """

    def __init__(
        self,
        rows: list[LayerRow],
        input_size: tuple[int, ...],
        title: str | None = None,
        not_run: Mapping[str, int] | None = None,
        training: bool = False,
    ) -> None:
        self.layers = rows
        self.input_size = input_size
        self.not_run = dict(not_run or {})
        self.training = training
        shown = [
            [r.name, r.kind, r.output_shape[1:], r.params, r.macs, r.activation_bytes / 1024]
            for r in rows
        ]
        shown.append(["total", "", "", self.total_params, self.total_macs, self.total_activation_bytes / 1024])
        if self.not_run:
            mode = "training" if training else "eval"
            shown.append([f"not run in {mode} mode", ", ".join(self.not_run), "", sum(self.not_run.values()), None, None])
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


def _group(node: Node, depth: int) -> str | None:
    """The module path at ``depth`` that ``node`` runs inside, or None if it is shallower."""
    path = node.target if node.op == "module" else (node.scope[-1] if node.scope else "")
    parts = path.split(".") if path else []
    inside = len(parts) > depth if node.op == "module" else len(parts) >= depth
    return ".".join(parts[:depth]) if inside else None


def layer_table(
    model: nn.Module, input_size: tuple[int, ...], depth: int | None = None, train: bool = False
) -> LayerTable:
    """Output shape, parameters, multiply-adds and activation memory of everything ``forward`` does.

    The rows are the nodes of the model's computation graph (:func:`cnnzoo.graph.trace`),
    in the order they run: every layer call and every function written in ``forward``
    (a residual ``add``, a ``cat``, ``flatten``, ...), so that the totals cover the whole pass.
    A layer called twice has two rows, the second named e.g. ``"relu (call 2)"``; its
    parameters count at its first call only. ``table["c3"]`` finds a row by name (a layer's
    first call for its plain path). The input itself is not a row.

    The totals equal :func:`count_parameters` (when every parameter is used in this mode;
    the others are listed on a last line, see :class:`LayerTable`) and :func:`count_macs`
    for the same mode. Multiply-adds come from ``FlopCounterMode`` (FLOPs / 2, matrix products
    only: biases, pooling and activations count 0).

    Args:
        model: any ``nn.Module`` that ``torch.fx`` can trace.
        input_size: the input's shape with the batch first, e.g. ``(1, 1, 32, 32)``.
        depth: ``None`` for one row per node; an int to sum the nodes inside each module at
            that depth into one row (``depth=2`` on a ResNet: one row per ``"layer1.0"`` block;
            nodes above that depth keep their own rows).
        train: trace in training mode, where some networks compute more (GoogLeNet's
            auxiliary classifiers); the default is eval mode.
    """
    input_size = check_input_size(input_size)
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or depth < 1):
        raise ValueError(f"depth must be None or a positive int; got {depth!r}")
    model_graph = trace(model, input_size, train=train)
    nodes = [node for node in model_graph.nodes if node.op in ("module", "function")]
    groups: list[tuple[str | None, list[Node]]] = []
    for node in nodes:
        key = _group(node, depth) if depth is not None else None
        if key is not None and groups and groups[-1][0] == key:
            groups[-1][1].append(node)
        else:
            groups.append((key, [node]))
    rows = []
    calls: dict[str, int] = {}
    for key, members in groups:
        if key is None:
            (node,) = members
            name = node.label
            kind = type(node.module).__name__ if node.module is not None else node.target
        else:
            calls[key] = calls.get(key, 0) + 1
            name = key if calls[key] == 1 else f"{key} (call {calls[key]})"
            kind = type(model.get_submodule(key)).__name__
        rows.append(
            LayerRow(
                name=name,
                kind=kind,
                output_shape=members[-1].shape,
                params=sum(n.params for n in members),
                macs=sum(n.macs for n in members),
                activation_bytes=sum(n.output_bytes for n in members),
            )
        )
    mode = ", training mode" if train else ""
    title = f"{type(model).__name__}, input {'×'.join(map(str, input_size))}{mode}"
    return LayerTable(rows, input_size, title=title, not_run=model_graph.not_run, training=train)


# --------------------------------------------------------------------------- receptive fields


@dataclass(frozen=True)
class ReceptiveFieldRow:
    """The receptive field of one unit in a layer's output, in input pixels.

    ``size`` is the side of the square of input pixels that can affect the unit, ``jump``
    is the distance in input pixels between neighbouring units (the product of the strides
    so far), and ``start`` is the centre of the first unit's field (pixel centres at 0, 1, ...;
    a negative start means the field hangs over the padding). After a global operation
    ``size`` is ``"global"`` and ``jump`` and ``start`` are ``None``. ``kernel``, ``stride``
    and ``padding`` are ``None`` for a node that is not a spatial layer (an addition, a ReLU).
    """

    name: str
    kernel: int | None
    stride: int | None
    padding: int | None
    size: int | str
    jump: int | None
    start: float | None


class ReceptiveFieldTable(Table):
    """Receptive fields (see :func:`receptive_field`): ``layers`` holds the rows shown.

    ``nodes`` maps every node's label to its field, element-wise nodes included, so
    ``table["add (layer4.1)"]`` gives the field of ResNet-18's last residual sum.
    """

    def __init__(self, rows: list[ReceptiveFieldRow], nodes: Mapping[str, ReceptiveFieldRow] | None = None,
                 title: str | None = None) -> None:
        self.layers = rows
        self.nodes = dict(nodes) if nodes is not None else {r.name: r for r in rows}
        super().__init__(
            ["layer", "kernel", "stride", "padding", "receptive field", "jump", "start"],
            [[r.name, r.kernel, r.stride, r.padding, r.size, r.jump, r.start] for r in rows],
            title,
        )

    def __getitem__(self, name: str) -> ReceptiveFieldRow:
        if name in self.nodes:
            return self.nodes[name]
        raise KeyError(f"no node named {name!r}; nodes: {', '.join(self.nodes)}")


GLOBAL = "global"
_Field = tuple  # (left, right, jump): the first unit's field [left, right] in input pixels; or GLOBAL


def _square(value: Any, what: str, name: str) -> Any:
    """One number for a square kernel, stride, padding or dilation (a tuple's equal entries)."""
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1:
            raise ValueError(
                f"receptive field: {name!r} has {what} {tuple(value)}; only square ones (equal on "
                "every axis) are supported"
            )
        return value[0]
    return value


def _apply(field: _Field, kernel: int, stride: int, padding: int, dilation: int) -> _Field:
    """Araujo et al.'s recurrence on the first unit's interval [left, right] and the jump."""
    if field == GLOBAL:
        return GLOBAL
    left, right, jump = field
    effective = dilation * (kernel - 1) + 1
    return left - padding * jump, right + (effective - 1 - padding) * jump, jump * stride


def _layer_spec(name: str, kernel: Any, stride: Any, padding: Any, dilation: Any) -> tuple[int, int, int, int]:
    """(kernel, stride, padding, dilation) as checked ints; padding ``"same"``/``"valid"`` resolved."""
    kernel, stride, dilation = (_square(v, w, name) for v, w in ((kernel, "kernel"), (stride, "stride"),
                                                                  (dilation, "dilation")))
    if stride is None or stride == []:
        stride = kernel
    for label, value in (("kernel", kernel), ("stride", stride), ("dilation", dilation)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"layer {name!r}: {label} must be a positive int; got {value!r}")
    if padding == "valid":
        padding = 0
    elif padding == "same":
        padding = dilation * (kernel - 1) // 2   # PyTorch pads the extra pixel on the right
    padding = _square(padding, "padding", name)
    if not isinstance(padding, int) or isinstance(padding, bool) or padding < 0:
        raise ValueError(f"layer {name!r}: padding must be a non-negative int; got {padding!r}")
    return kernel, stride, padding, dilation


_POOL_ARGUMENTS = {
    "max_pool2d": ("input", "kernel_size", "stride", "padding", "dilation"),
    "avg_pool2d": ("input", "kernel_size", "stride", "padding"),
}


def _node_spec(node: Node, sizes: dict[str, tuple[int, ...]]) -> tuple[int, int, int, int] | str | None:
    """How ``node`` moves a field: (kernel, stride, padding, dilation), ``GLOBAL``, or None (element-wise)."""
    layer = node.module
    if layer is not None and hasattr(layer, "kernel_size"):
        return _layer_spec(node.label, layer.kernel_size, getattr(layer, "stride", None),
                           getattr(layer, "padding", 0), getattr(layer, "dilation", 1))
    if node.op == "function" and node.target in _POOL_ARGUMENTS:
        given = dict(zip(_POOL_ARGUMENTS[node.target], node.args), **node.kwargs)
        return _layer_spec(node.label, given["kernel_size"], given.get("stride"), given.get("padding", 0),
                           given.get("dilation", 1))
    spatial_inputs = [sizes[name] for name in node.inputs if name in sizes]
    if len(node.shape) != 4 or not spatial_inputs:
        return GLOBAL                        # flatten, linear, view, mean over space, ...
    adaptive = (layer is not None and hasattr(layer, "output_size")) or node.target.startswith("adaptive_")
    if adaptive:
        (height, width), (out_height, out_width) = spatial_inputs[0], node.shape[2:]
        if height != width or out_height != out_width:
            raise ValueError(f"receptive field: {node.label!r} pools {height}×{width} to "
                             f"{out_height}×{out_width}; only square maps are supported")
        if out_height == 1 or height % out_height:
            return GLOBAL                    # global pooling, or windows of varying size
        return height // out_height, height // out_height, 0, 1
    for size in spatial_inputs:
        if size != tuple(node.shape[2:]) and size != (1, 1):
            raise ValueError(
                f"receptive field: {node.label!r} ({node.target}) changes the spatial size from "
                f"{'×'.join(map(str, size))} to {'×'.join(map(str, node.shape[2:]))} and is not a "
                "convolution or pooling with a kernel_size; its receptive field is unknown"
            )
    return None


def _merge(label: str, fields: list[_Field]) -> _Field:
    """The union of the inputs' fields (the largest field over all paths); their jumps must agree."""
    if any(field == GLOBAL for field in fields):
        return GLOBAL
    jumps = {jump for _, _, jump in fields}
    if len(jumps) > 1:
        raise ValueError(
            f"receptive field undefined: paths with different strides meet at {label!r} "
            f"(jumps {sorted(jumps)} in input pixels)"
        )
    return min(left for left, _, _ in fields), max(right for _, right, _ in fields), jumps.pop()


def _row(name: str, spec: Any, field: _Field) -> ReceptiveFieldRow:
    kernel, stride, padding = spec[:3] if isinstance(spec, tuple) else (None, None, None)
    if field == GLOBAL:
        return ReceptiveFieldRow(name, kernel, stride, padding, GLOBAL, None, None)
    left, right, jump = field
    return ReceptiveFieldRow(name, kernel, stride, padding, int(right - left + 1), jump, (left + right) / 2)


def _graph_fields(model: nn.Module, input_size: tuple[int, ...]) -> ReceptiveFieldTable:
    model_graph = trace(model, input_size)
    if len(input_size) != 4:
        raise ValueError(f"receptive_field needs images, input_size (N, C, H, W); got {input_size!r}")
    first = model_graph.input
    fields: dict[str, _Field] = {first.name: (0, 0, 1)}
    sizes: dict[str, tuple[int, ...]] = {first.name: tuple(first.shape[2:])}
    rows, nodes = [], {}
    for node in model_graph.nodes[1:-1]:
        spec = _node_spec(node, sizes)
        inputs = [fields[name] for name in node.inputs if name in fields]
        if isinstance(spec, tuple):
            field = _apply(_merge(node.label, inputs), *spec)
        elif spec == GLOBAL:
            field = GLOBAL
        else:
            field = _merge(node.label, inputs)
        fields[node.name] = field
        if len(node.shape) == 4:
            sizes[node.name] = tuple(node.shape[2:])
        row = _row(node.label, spec, field)
        nodes[node.label] = row
        is_layer = isinstance(spec, tuple) or (spec == GLOBAL and node.name in sizes)
        if is_layer and any(name in sizes and fields[name] != GLOBAL for name in node.inputs):
            rows.append(row)
    title = f"{type(model).__name__}, input {'×'.join(map(str, input_size))}"
    return ReceptiveFieldTable(rows, nodes, title)


def receptive_field(
    layers: nn.Module | Iterable[tuple],
    input_size: tuple[int, ...] | None = None,
) -> ReceptiveFieldTable:
    """The receptive field of every spatial layer, over the model's real computation graph.

    With kernel k, stride s, padding p and dilation d (effective kernel k' = d(k - 1) + 1),
    going from layer l-1 to layer l (Araujo, Norris and Sim, "Computing receptive fields of
    convolutional neural networks", Distill 2019):

        size_l  = size_{l-1} + (k' - 1) * jump_{l-1}
        jump_l  = jump_{l-1} * s
        start_l = start_{l-1} + ((k' - 1) / 2 - p) * jump_{l-1}

    starting from one input pixel: size 1, jump 1, start 0. Where paths meet (a residual
    ``add``, an Inception ``cat``) the field is the union of the inputs' fields, from the
    leftmost edge to the rightmost, centred between them: the largest field over all paths,
    right even where the paths' centres differ. It is undefined, and a ``ValueError`` says
    where, when paths with different jumps meet.

    Spatial layers are modules with a ``kernel_size`` (convolutions, poolings, LeNet-5's
    ``Subsampling`` and ``PartialConv2d``), ``F.max_pool2d``/``F.avg_pool2d`` calls, and
    adaptive poolings whose output divides their input (a pooling with kernel = stride =
    input / output). Element-wise nodes (ReLU, batch norm, dropout, ``add``, ``cat`` along
    channels) keep their inputs' field. Global operations (global or uneven adaptive
    pooling, ``flatten``, ``view``, a linear layer, a mean over space) let every later unit
    see the whole input: the global pooling's row shows ``size == "global"``, and the table
    stops there (flatten, linear layers and later nodes are not spatial, so not rows).
    Kernels, strides and paddings must be square.

    Args:
        layers: a model, traced by :func:`cnnzoo.graph.trace` in eval mode; or tuples
            ``(name, kernel, stride[, padding[, dilation]])``, a chain given by hand.
        input_size: for a model, the input's shape with the batch first; ``None`` uses
            ``(1, *model.input_size)`` for a model that declares ``input_size``.

    Returns:
        A :class:`ReceptiveFieldTable`: ``table.layers`` holds one :class:`ReceptiveFieldRow`
        per spatial layer in graph order, named by their layer path (``"layer1.0.conv1"``) or,
        for functions, name and module (``"max_pool2d (features)"``); ``table[label]`` gives
        any node's field.
    """
    if isinstance(layers, nn.Module):
        if input_size is None:
            declared = getattr(layers, "input_size", None)
            if declared is None:
                raise ValueError(
                    f"{type(layers).__name__} has no input_size attribute: give receptive_field an "
                    "input_size, e.g. (1, 3, 224, 224)"
                )
            input_size = (1, *declared)
        return _graph_fields(layers, check_input_size(input_size))
    rows: list[ReceptiveFieldRow] = []
    field: _Field = (0, 0, 1)
    for item in layers:
        if not isinstance(item, (tuple, list)) or not 3 <= len(item) <= 5:
            raise ValueError(f"each layer must be (name, kernel, stride[, padding[, dilation]]); got {item!r}")
        name, kernel, stride, *rest = item
        spec = _layer_spec(str(name), kernel, stride, rest[0] if rest else 0, rest[1] if len(rest) > 1 else 1)
        if stride is None:
            raise ValueError(f"layer {name!r}: stride must be a positive int; got None")
        field = _apply(field, *spec)
        rows.append(_row(str(name), spec, field))
    if not rows:
        raise ValueError("no layers with a kernel: give a model with convolutions/poolings or a list of tuples")
    return ReceptiveFieldTable(rows)


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
_TOTAL_MULT_ADDS = re.compile(r"^Total mult-adds.*$", re.MULTILINE)


class Summary:
    """torchinfo's ``ModelStatistics`` with its text repaired (see :func:`summary`).

    ``total_mult_adds`` is the package's count (:func:`count_macs`); torchinfo's own total
    stays available as ``torchinfo_mult_adds``.
    """

    def __init__(self, statistics: Any, total_mult_adds: int) -> None:
        self.statistics = statistics
        self.total_mult_adds = total_mult_adds

    @property
    def torchinfo_mult_adds(self) -> int:
        return self.statistics.total_mult_adds

    def __str__(self) -> str:
        import torchinfo

        text = _UNITS.sub(lambda m: torchinfo.Units[m.group(1)].value, str(self.statistics))
        ours = f"Total mult-adds (cnnzoo.analysis.count_macs): {self.total_mult_adds:,}"
        return _TOTAL_MULT_ADDS.sub(ours, text, count=1)

    __repr__ = __str__

    def __getattr__(self, name: str) -> Any:  # total_params, summary_list, ...
        return getattr(self.statistics, name)


def summary(model: nn.Module, input_size: tuple[int, ...], **kwargs: Any) -> Summary:
    """``torchinfo.summary`` with the layers' names shown and one multiply-add total: ours.

    torchinfo counts multiply-adds its own way, so its total differs from
    :func:`count_macs` and :func:`layer_table`: for a module whose class name contains
    "Conv" it counts (weights + biases) x output positions, so each bias adds one per
    output; for any other module, one per parameter for each sample. On ``lenet5_1998``
    (input 1x1x32x32) it reports 332,232 against our 325,680; the 6,552 between them are
    the biases of C1 (6 maps x 28x28 = 4,704), of C3's 16 small convolutions (16 x 10x10 =
    1,600), of C5 (120) and F6 (84), and the parameters of S2 (12) and S4 (32), which
    torchinfo, not knowing ``Subsampling``, counts as one multiply-add each. (Its convolution
    counts with the bias are the paper's "connections".) So that a chapter never shows two
    totals, the mult-adds column is left out and the "Total mult-adds" line is replaced by
    ours, labelled ``cnnzoo.analysis.count_macs``; ask for ``col_names=(..., "mult_adds")``
    to see torchinfo's per-layer counts anyway.

    Under Python 3.11+ torchinfo 1.8 would also print ``Units.MEGABYTES`` for its units
    (Python 3.11 changed how ``format()`` shows a ``str``-mixin enum); that is repaired.

    Args:
        model: any ``nn.Module``; counted in eval mode.
        input_size: the input's shape with the batch first.
        kwargs: passed on to ``torchinfo.summary``.
    """
    import torchinfo

    input_size = check_input_size(input_size)
    kwargs.setdefault("row_settings", ("var_names",))
    kwargs.setdefault("col_names", ("output_size", "num_params"))
    kwargs.setdefault("device", model_device(model))
    kwargs.setdefault("mode", "eval")
    statistics = torchinfo.summary(model, input_size=input_size, verbose=0, **kwargs)
    return Summary(statistics, count_macs(model, input_size))


# --------------------------------------------------------------------------- time


@dataclass(frozen=True)
class StepTime:
    """Median seconds of ``repeats`` timed passes (see :func:`step_time`)."""

    forward: float   # a forward pass without gradients, in eval mode
    training: float  # a forward pass, the loss and the backward pass, in training mode
    repeats: int

    @property
    def backward(self) -> float:
        """The training step's time less the forward pass's: about the backward pass."""
        return self.training - self.forward


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_time(model: nn.Module, input_size: tuple[int, ...], repeats: int = 5, warmup: int = 1) -> StepTime:
    """Median wall-clock seconds of a forward pass and of a training step (forward, loss, backward).

    Runs on random images on the model's device (synchronising a GPU before reading the
    clock), after ``warmup`` untimed passes of each kind. The loss is the sum of the outputs,
    so no labels are needed; no optimiser step is taken. The model's mode, gradients and
    random state are restored afterwards, but batch norm's running statistics are updated by
    the training passes: time a copy if they matter. Times depend on the machine and its
    load: compare two models in the same run, as a ratio.

    Args:
        model: any ``nn.Module`` that returns a tensor (or a tuple whose first item is one).
        input_size: the input's shape with the batch first, e.g. (64, 3, 32, 32).
        repeats: timed passes of each kind (the median is reported).
        warmup: untimed passes of each kind first.
    """
    input_size = check_input_size(input_size)
    for name, value in (("repeats", repeats), ("warmup", warmup)):
        if not isinstance(value, int) or isinstance(value, bool) or value < (1 if name == "repeats" else 0):
            raise ValueError(f"{name} must be an int >= {1 if name == 'repeats' else 0}; got {value!r}")
    device = model_device(model)
    was_training = model.training
    saved_grads = {p: p.grad for p in model.parameters()}
    rng = torch.random.get_rng_state()
    x = torch.randn(input_size, device=device)

    def forward() -> None:
        with torch.no_grad():
            model(x)

    def training_step() -> None:
        out = model(x)
        out = out[0] if isinstance(out, tuple) else out
        out.sum().backward()

    def timed(run, mode: bool) -> float:
        model.train(mode)
        for _ in range(warmup):
            run()
        seconds = []
        for _ in range(repeats):
            _synchronize(device)
            start = time.perf_counter()
            run()
            _synchronize(device)
            seconds.append(time.perf_counter() - start)
        return statistics.median(seconds)

    try:
        forward_s = timed(forward, False)
        training_s = timed(training_step, True)
    finally:
        model.train(was_training)
        for p, grad in saved_grads.items():
            p.grad = grad
        torch.random.set_rng_state(rng)
    return StepTime(forward=forward_s, training=training_s, repeats=repeats)


# --------------------------------------------------------------------------- memory kept for backward


def saved_tensor_bytes(model: nn.Module, x: torch.Tensor) -> int:
    """Bytes of the distinct tensors autograd keeps for the backward pass of ``model(x)``, weights left out.

    One forward pass in training mode (as in training: batch statistics, dropout masks) under
    ``torch.autograd.graph.saved_tensors_hooks``: every tensor an operation saves for its backward
    is seen once as it is packed; tensors that share storage (a ReLU's output saved again by the
    next convolution) are counted once, by their storage; the model's parameters and buffers are
    left out (they are in memory anyway). This is the memory a training step holds between its
    forward and backward passes beyond the weights, the part that grows with the batch and the
    depth. Operations run under ``torch.utils.checkpoint`` save nothing here (they recompute in
    backward); the inputs a checkpoint keeps are counted. The model's mode and batch-norm running
    statistics are restored afterwards.

    Args:
        model: any ``nn.Module``.
        x: the input batch, on the model's device (``requires_grad`` as the caller wants it).
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module; got {type(model).__name__}")
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x must be a tensor (the input batch); got {type(x).__name__}")
    weights = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}
    saved: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in weights:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    was_training = model.training
    buffers = {name: b.clone() for name, b in model.named_buffers()}
    try:
        model.train()
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            out = model(x)
        del out
    finally:
        model.train(was_training)
        with torch.no_grad():
            for name, b in model.named_buffers():
                b.copy_(buffers[name])
    return sum(saved.values())
