"""Architecture figures drawn from a model: one box per layer, as in the papers' figures.

LeCun et al. (1998, Fig. 2) draw LeNet-5 as a row of layers, each labelled with its name
and its output, "C1: feature maps 6@28x28". This module draws the same information, one
rounded box per layer (name, kind, kernel, channels, output size), read off the model by
one forward pass with forward hooks, so that the figure cannot disagree with the code.

Two steps, so that later networks need no new drawing code:

    graph_from_model(model, input_size) -> Graph    a list of Nodes, each naming its inputs
    draw_graph(graph) -> Figure                     a layered drawing of any such graph

A sequential model needs nothing: its children are chained in the order they run. A model
with parallel branches (GoogLeNet), skip connections (ResNet) or concatenations (DenseNet)
lists its nodes in a ``diagram_nodes()`` method; a merge node is written "add:NAME" or
"concat:NAME" and is drawn as a small circle with "+" or "C":

    def diagram_nodes(self):
        return [
            ("conv1", ("input",)),
            ("conv2", ("conv1",)),
            ("add:sum", ("conv2", "input")),    # the shortcut
        ]

A layer chooses its own label with a ``diagram_label()`` method returning ``(kind, text)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch
from torch import nn

from ._forward import check_input_size, forward_on_zeros

__all__ = ["KINDS", "Node", "Graph", "describe", "graph_from_model", "draw", "draw_graph"]

KINDS = ("input", "conv", "pool", "fc", "act", "norm", "dropout", "concat", "add", "block", "output", "other")
MERGE_KINDS = ("add", "concat")

# Paul Tol's "light" scheme: colours that colour-blind readers tell apart, under dark text.
COLOURS = {
    "input": "#DDDDDD", "output": "#DDDDDD", "other": "#FFFFFF",
    "conv": "#77AADD", "pool": "#EEDD88", "fc": "#FFAABB", "act": "#BBCC33",
    "norm": "#99DDFF", "dropout": "#EE8866", "block": "#AAAA00",
    "concat": "#44BB99", "add": "#44BB99",
}
INK = "#222222"
FONT_SIZE = 8        # points
CHAR_WIDTH = 0.062   # inches per character at 8 pt, a generous average (digits, "×", "@")
LINE_HEIGHT = 0.16   # inches per line at 8 pt
GAP = 0.45           # inches between neighbouring boxes
MERGE_RADIUS = 0.15  # inches
SKIP_RAD = 0.15      # the least a skip connection bends (matplotlib's arc3 "rad")

NORMS = {nn.BatchNorm1d: "batch norm", nn.BatchNorm2d: "batch norm", nn.LayerNorm: "layer norm",
         nn.GroupNorm: "group norm", nn.LocalResponseNorm: "local response norm"}
ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Mish,
               nn.Tanh, nn.Sigmoid, nn.Hardswish, nn.Hardsigmoid, nn.Softmax)

# --------------------------------------------------------------------------- the graph


@dataclass(frozen=True)
class Node:
    """One box of the figure.

    Args:
        name: a unique id, e.g. ``"c1"`` or ``"inception3a.branch2"``.
        kind: one of ``KINDS``; it sets the colour (``add`` and ``concat`` are circles).
        text: the box's text, lines separated by ``"\\n"``.
        inputs: the names of the nodes that feed this one.
        shape: the output shape, batch dimension first (empty when unknown).
    """

    name: str
    kind: str
    text: str
    inputs: tuple[str, ...] = ()
    shape: tuple[int, ...] = ()


@dataclass
class Graph:
    """The nodes of a figure, each listed after all of its inputs (so the graph has no cycle).

    Args:
        nodes: the nodes, in an order where every input comes before the node that reads it.
    """

    nodes: list[Node]

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` on a repeated name, an unknown kind, or an input not defined earlier."""
        if not self.nodes:
            raise ValueError("a graph needs at least one node")
        seen: set[str] = set()
        for node in self.nodes:
            if node.kind not in KINDS:
                raise ValueError(f"node {node.name!r} has unknown kind {node.kind!r}; kinds: {', '.join(KINDS)}")
            if node.name in seen:
                raise ValueError(f"two nodes are named {node.name!r}; names must be unique")
            if isinstance(node.inputs, str):
                raise ValueError(f"node {node.name!r}: inputs must be a tuple of names, e.g. ({node.inputs!r},)")
            for name in node.inputs:
                if name not in seen:
                    raise ValueError(f"node {node.name!r} reads {name!r}, which is not an earlier node")
            seen.add(node.name)


# --------------------------------------------------------------------------- from a model


def _pair(value: int | tuple[int, ...]) -> tuple[int, ...]:
    return (value, value) if isinstance(value, int) else tuple(value)


def _size(value: int | tuple[int, ...]) -> str:
    return "×".join(str(v) for v in _pair(value))      # 5 -> "5×5"


def _stride(value: int | tuple[int, ...]) -> str:
    steps = _pair(value)
    if max(steps) == 1:
        return ""
    return f", /{steps[0]}" if len(set(steps)) == 1 else f", /{_size(steps)}"


def describe(module: nn.Module) -> tuple[str, str]:
    """The kind (one of ``KINDS``) and a short text for one layer, e.g. ``("conv", "conv 5×5, 6")``.

    A module's own ``diagram_label()`` method wins over the rules below.

    Args:
        module: the layer to describe.
    """
    if hasattr(module, "diagram_label"):
        return module.diagram_label()
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        groups = f", {module.groups} groups" if module.groups > 1 else ""
        return "conv", f"conv {_size(module.kernel_size)}, {module.out_channels}{_stride(module.stride)}{groups}"
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        how = "max" if isinstance(module, nn.MaxPool2d) else "avg"
        return "pool", f"{how} pool {_size(module.kernel_size)}{_stride(module.stride)}"
    if isinstance(module, (nn.AdaptiveMaxPool2d, nn.AdaptiveAvgPool2d)):
        how = "max" if isinstance(module, nn.AdaptiveMaxPool2d) else "avg"
        if _pair(module.output_size) == (1, 1):
            return "pool", f"global {how} pool"
        return "pool", f"adaptive {how} pool {_size(module.output_size)}"
    if isinstance(module, nn.Linear):
        return "fc", f"fc {module.out_features}"
    for norm, text in NORMS.items():
        if isinstance(module, norm):
            return "norm", text
    if isinstance(module, ACTIVATIONS):
        return "act", type(module).__name__
    if isinstance(module, (nn.Dropout, nn.Dropout2d)):
        return "dropout", f"dropout {module.p:g}"
    if isinstance(module, nn.Flatten):
        return "other", "flatten"
    if any(True for _ in module.children()):             # Sequential, a block of layers, ...
        return "block", type(module).__name__
    return "other", type(module).__name__


def _shape_text(shape: tuple[int, ...]) -> str:
    """The papers' notation without the batch: (N, 6, 28, 28) -> "6@28×28", (N, 120) -> "120"."""
    if len(shape) <= 1:
        return ""
    if len(shape) == 2:
        return str(shape[1])
    return f"{shape[1]}@{'×'.join(str(n) for n in shape[2:])}"


def _output_shape(output: object) -> tuple[int, ...]:
    if isinstance(output, (tuple, list)):                # e.g. (logits, aux_logits)
        output = next((item for item in output if isinstance(item, torch.Tensor)), None)
    return tuple(output.shape) if isinstance(output, torch.Tensor) else ()


def _run(model: nn.Module, modules: dict[str, nn.Module], input_size: tuple[int, ...]) -> dict[str, tuple]:
    """One forward pass on zeros: the output shape of each call of ``modules``, in call order.

    The second call of a module ``relu`` is named ``relu#2``, the third ``relu#3``, ...
    """
    shapes: dict[str, tuple[int, ...]] = {}
    counts: dict[str, int] = {}

    def hook_for(name: str):
        def hook(module: nn.Module, args: tuple, output: object) -> None:
            counts[name] = counts.get(name, 0) + 1
            shapes[name if counts[name] == 1 else f"{name}#{counts[name]}"] = _output_shape(output)
        return hook

    handles = [module.register_forward_hook(hook_for(name)) for name, module in modules.items()]
    try:
        forward_on_zeros(model, input_size)
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def graph_from_model(model: nn.Module, input_size: tuple[int, ...]) -> Graph:
    """The graph of ``model``, with output shapes from one forward pass on ``torch.zeros(input_size)``.

    Without a ``diagram_nodes()`` method the direct children are chained in the order they
    run (a child run twice appears twice, as ``name`` and ``name#2``; one never run is left
    out). The model is run in eval mode under ``torch.no_grad()``, then put back as it was.

    Args:
        model: the network to draw.
        input_size: the input's shape, batch dimension first, e.g. ``(1, 1, 32, 32)``.
    """
    input_size = check_input_size(input_size)
    entries = list(model.diagram_nodes()) if hasattr(model, "diagram_nodes") else None
    if entries is None:
        modules = dict(model.named_children())
        order = None                                      # known after the forward pass
    else:
        order, modules = [], {}
        for name, inputs in entries:
            if isinstance(inputs, str):
                raise ValueError(f"diagram_nodes(): the inputs of {name!r} must be a tuple, e.g. ({inputs!r},)")
            order.append((name, tuple(inputs)))
            if ":" not in name:
                base = name.split("#")[0]
                try:
                    modules[base] = model.get_submodule(base)
                except AttributeError:
                    raise ValueError(f"diagram_nodes() names {base!r}, which is not a submodule") from None
    shapes = _run(model, modules, input_size)
    if order is None:                                     # sequential: each call reads the one before
        names = ["input", *shapes]
        order = [(name, (previous,)) for previous, name in zip(names, names[1:])]

    nodes = [Node("input", "input", f"input\n{_shape_text(input_size)}", (), input_size)]
    known = {"input": input_size}
    for name, inputs in order:
        if ":" in name:                                   # a merge node, "add:name" or "concat:name"
            kind, name = name.split(":", 1)
            if kind not in MERGE_KINDS:
                raise ValueError(f"merge node {name!r} must start with 'add:' or 'concat:'; got {kind + ':'!r}")
            if len(inputs) < 2:
                raise ValueError(f"merge node {name!r} needs two or more inputs; got {inputs!r}")
            missing = [i for i in inputs if i not in known]
            if missing:
                raise ValueError(f"node {name!r} reads {missing[0]!r}, which is not an earlier node")
            shape = known[inputs[0]]                      # add: the inputs' common shape
            if kind == "concat":                          # concat: channels add up
                shape = (shape[0], sum(known[i][1] for i in inputs), *shape[2:])
            text = f"{name}\n{kind}\n{_shape_text(shape)}"
        else:
            if name not in shapes:
                raise ValueError(f"diagram_nodes() names {name!r}, which never ran in forward()")
            shape = shapes[name]
            kind, label = describe(modules[name.split("#")[0]])
            text = "\n".join(line for line in (name, label, _shape_text(shape)) if line)
        nodes.append(Node(name, kind, text, inputs, shape))
        known[name] = shape
    return Graph(nodes)


# --------------------------------------------------------------------------- drawing


def _check_direction(direction: str) -> None:
    if direction not in ("LR", "TB"):
        raise ValueError(f"direction must be 'LR' (left to right) or 'TB' (top to bottom); got {direction!r}")


def _layout(graph: Graph, direction: str) -> tuple[dict, dict, dict]:
    """Layer, centre and half size (in inches) of every node.

    A node's layer is 1 + the deepest layer among its inputs; the nodes of one layer are
    spread across, centred on the middle line. Every box has the size of the largest text;
    a merge node's size includes the shape written beside its circle.
    """
    boxes = [node for node in graph.nodes if node.kind not in MERGE_KINDS] or graph.nodes
    box_w = max(len(line) for node in boxes for line in node.text.split("\n")) * CHAR_WIDTH + 0.3
    box_h = max(node.text.count("\n") + 1 for node in boxes) * LINE_HEIGHT + 0.2
    layer: dict[str, int] = {}
    members: dict[int, list[str]] = {}
    for node in graph.nodes:
        layer[node.name] = 1 + max((layer[name] for name in node.inputs), default=-1)
        members.setdefault(layer[node.name], []).append(node.name)

    centre, half_size = {}, {}
    for node in graph.nodes:
        names = members[layer[node.name]]
        across = names.index(node.name) - (len(names) - 1) / 2       # 0 on the middle line
        if direction == "LR":   # layers go right, a layer's nodes go down
            centre[node.name] = (layer[node.name] * (box_w + GAP), -across * (box_h + GAP / 2))
        else:                   # layers go down, a layer's nodes go right
            centre[node.name] = (across * (box_w + GAP / 2), -layer[node.name] * (box_h + GAP))
        if node.kind in MERGE_KINDS:    # the circle, and its label down on the right
            half_size[node.name] = (MERGE_RADIUS + len(_shape_text(node.shape)) * CHAR_WIDTH, MERGE_RADIUS + 0.15)
        else:
            half_size[node.name] = (box_w / 2, box_h / 2)
    return layer, centre, half_size


def _arc_points(start: tuple[float, float], end: tuple[float, float], rad: float) -> list[tuple[float, float]]:
    """Points along matplotlib's "arc3,rad=..." arrow from ``start`` to ``end``.

    arc3 is a quadratic Bezier curve whose control point is the midpoint + rad * (dy, -dx),
    with (dx, dy) = end - start; rad = 0 is the straight line.
    """
    (x0, y0), (x1, y1) = start, end
    cx, cy = (x0 + x1) / 2 + rad * (y1 - y0), (y0 + y1) / 2 - rad * (x1 - x0)
    ts = [i / 40 for i in range(1, 40)]
    return [((1 - t) ** 2 * x0 + 2 * t * (1 - t) * cx + t * t * x1,
             (1 - t) ** 2 * y0 + 2 * t * (1 - t) * cy + t * t * y1) for t in ts]


def _skip_rad(start: tuple[float, float], end: tuple[float, float], direction: str,
              boxes: list[tuple[float, float, float, float]]) -> float:
    """The least bend (from SKIP_RAD up) that takes a skip connection around ``boxes``.

    It bends away from the middle line (up in "LR", right in "TB", when on it).

    Args:
        start, end: the centres of the two nodes it joins.
        direction: "LR" or "TB".
        boxes: the other nodes, as (x, y, half width, half height).
    """
    (x0, y0), (x1, y1) = start, end
    if direction == "LR":
        out_x, out_y = 0, (1 if y0 + y1 >= 0 else -1)
    else:
        out_x, out_y = (1 if x0 + x1 >= 0 else -1), 0
    sign = 1 if (y1 - y0) * out_x - (x1 - x0) * out_y > 0 else -1   # the sign of rad that bends outward
    for step in range(15):
        rad = sign * (SKIP_RAD + 0.05 * step)
        points = _arc_points(start, end, rad)
        if not any(abs(px - x) < w + 0.05 and abs(py - y) < h + 0.05 for px, py in points for x, y, w, h in boxes):
            break
    return rad


def draw_graph(graph: Graph, *, direction: str = "LR", title: str | None = None, ax=None) -> Figure:
    """Draw ``graph`` in layers, each node one step after its deepest input.

    Edges are arrows; a skip connection (an edge over one or more layers) is an arc that
    bends around the boxes in between. One unit of the axes is one inch, so that 8 pt text
    fits its box; in an ``ax`` too small for that, the text shrinks with the drawing.

    Args:
        graph: the nodes to draw.
        direction: ``"LR"`` (left to right, like LeNet's figure) or ``"TB"`` (top to bottom).
        title: a title above the figure.
        ax: the axes to draw into; a new figure of the right size when ``None``.
    """
    _check_direction(direction)
    graph.validate()
    layer, centre, half_size = _layout(graph, direction)
    edges = []                  # (source, target, rad); rad = 0 is a straight arrow
    for node in graph.nodes:
        for source in node.inputs:
            rad = 0.0
            if layer[node.name] - layer[source] > 1:
                others = [(*centre[name], *half_size[name]) for name in centre if name not in (source, node.name)]
                rad = _skip_rad(centre[source], centre[node.name], direction, others)
            edges.append((source, node.name, rad))

    # The drawing's extent, every box and every arrow in it, sets the figure's size.
    points = [(x + sx * half_size[name][0], y + sy * half_size[name][1])
              for name, (x, y) in centre.items() for sx in (-1, 1) for sy in (-1, 1)]
    for source, target, rad in edges:
        points += _arc_points(centre[source], centre[target], rad)
    xs, ys = [x for x, _ in points], [y for _, y in points]
    x_lim, y_lim = (min(xs) - 0.15, max(xs) + 0.15), (min(ys) - 0.15, max(ys) + 0.15)
    width, height = x_lim[1] - x_lim[0], y_lim[1] - y_lim[0]
    if ax is None:
        title_height = 0.35 if title else 0.0
        fig = Figure(figsize=(width, height + title_height))  # not pyplot's: shown once, as the cell's result
        ax = fig.subplots()
        fig.subplots_adjust(left=0, right=1, bottom=0, top=height / (height + title_height))
    available = ax.get_window_extent().transformed(ax.figure.dpi_scale_trans.inverted())
    scale = min(1.0, available.width / width, available.height / height)   # text shrinks to fit

    patches = {}
    for node in graph.nodes:
        x, y = centre[node.name]
        if node.kind in MERGE_KINDS:
            patch = Circle((x, y), MERGE_RADIUS, facecolor=COLOURS[node.kind], edgecolor=INK, linewidth=scale)
            symbol = "+" if node.kind == "add" else "C"
            ax.text(x, y, symbol, ha="center", va="center", fontsize=10 * scale, fontweight="bold", color=INK)
            # The merged shape, down on the right: away from the arrows coming in.
            ax.text(x + 0.7 * MERGE_RADIUS, y - 0.8 * MERGE_RADIUS, _shape_text(node.shape),
                    ha="left", va="top", fontsize=7 * scale, color=INK)
        else:
            half_w, half_h = half_size[node.name]
            patch = FancyBboxPatch((x - half_w, y - half_h), 2 * half_w, 2 * half_h,
                                   boxstyle="round,pad=0,rounding_size=0.08",
                                   facecolor=COLOURS[node.kind], edgecolor=INK, linewidth=0.8 * scale)
            ax.text(x, y, node.text, ha="center", va="center", fontsize=FONT_SIZE * scale, color=INK)
        patch.set_gid(node.name)    # a node's patch can be found by name (and is an id in SVG files)
        ax.add_patch(patch)
        patches[node.name] = patch

    for source, target, rad in edges:
        arrow = ax.annotate("", xy=centre[target], xytext=centre[source], zorder=0.5,
                            arrowprops=dict(arrowstyle="-|>", color=INK, linewidth=0.9 * scale,
                                            mutation_scale=10 * scale, shrinkA=1, shrinkB=1,
                                            connectionstyle=f"arc3,rad={rad}",
                                            patchA=patches[source], patchB=patches[target]))
        arrow.set_gid(f"{source}->{target}")

    ax.set_xlim(*x_lim)
    ax.set_ylim(*y_lim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax.figure


def draw(model: nn.Module, input_size: tuple[int, ...], *, direction: str = "LR",
         title: str | None = None, ax=None) -> Figure:
    """The figure of ``model``: ``draw_graph(graph_from_model(model, input_size))``.

    Args:
        model: the network to draw.
        input_size: the input's shape, batch dimension first, e.g. ``(1, 1, 32, 32)``.
        direction: ``"LR"`` (left to right) or ``"TB"`` (top to bottom).
        title: a title above the figure.
        ax: the axes to draw into; a new figure when ``None``.
    """
    _check_direction(direction)
    return draw_graph(graph_from_model(model, input_size), direction=direction, title=title, ax=ax)
