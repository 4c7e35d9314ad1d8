"""Architecture figures drawn from a model's real computation graph, as the papers draw them.

LeCun et al. (1998, Fig. 2) draw LeNet-5 as a row of layers, each labelled with its name
and its output, "C1: feature maps 6@28x28"; He et al. (2016, Table 1) write ResNet's
repeated blocks once, with a count ("×2"); Szegedy et al. (2015, Fig. 2) draw one
Inception module on its own. This module draws all three from the graph that
``cnnzoo.graph.trace`` records from ``forward``, so that a figure cannot disagree with the
code: an edge is drawn where, and only where, one tensor is read by another operation.

Three steps:

    cnnzoo.graph.trace(model, input_size) -> ModelGraph   every call of forward, with its inputs
    graph_from_trace(traced, model) -> Graph              the boxes of the figure, each naming its inputs
    draw_graph(graph) -> Figure                           a layered drawing of any such graph

From the traced graph to the boxes:

* every layer is a box ("conv 3×3, 64"); an element-wise layer or function (activation,
  batch norm, dropout) that is the only reader of a box's output joins that box as a line
  of its own ("BN · ReLU"), so that a figure is not three boxes per convolution; one that
  cannot join backwards (a pre-activation "BN · ReLU" after a concatenation) joins the
  layer that reads it;
* functions that only reshape (``flatten``, ``view``) or scale by a number join the box
  they read;
* ``add``, ``cat`` and ``mul`` of two or more tensors are merge circles ("+", "C", "×");
  a sum divided by the number of its terms, or ``torch.stack(...).mean(0)``, is a mean
  ("avg", FractalNet's join);
* a block (by default, the innermost module that contains a merge: ResNet's ``layer1.0``,
  GoogLeNet's ``inception3a``) is one box, and a run of consecutive blocks of the same
  class and the same structure is one box with a count ("BasicBlock ×2"). The first block
  of a run may add a child module the others lack (ResNet's ``downsample``, the
  projection shortcut of a stage's first block), and the box says so;
* a run of identical layers is one box with a count, as Simonyan & Zisserman (2015, Table 1)
  write VGG's stages as repeated rows: consecutive boxes, each reading only the one before
  and read only by the next, with the same label (layer kind, kernel, channels, stride, the
  folded BN/ReLU) and the same output shape ("conv 3×3, 512 · ReLU ×3"). A pooling layer,
  a change of shape or a branch ends a run. The first layer of a run may change the channel
  count (VGG's 256 -> 512 at a stage's first convolution): it still joins the run, because
  its label and output are those of the others, and the paper's table writes it as one more
  identical row. ``depth=0`` draws every layer.

Each box of the figure lists the traced nodes it stands for (``Node.members``): the
figure's edges are exactly the traced edges between different boxes, which the tests
check. ``expand="layer1.0"`` draws one block's inside alone, its outside inputs as input
boxes.

A layer chooses its own label with a ``diagram_label()`` method returning ``(kind, text)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch
from torch import nn

from . import graph as _graph

__all__ = ["KINDS", "Node", "Graph", "describe", "graph_from_trace", "graph_from_model", "draw", "draw_graph"]

KINDS = ("input", "conv", "pool", "fc", "act", "norm", "dropout", "concat", "add", "mul", "mean",
         "block", "output", "other")
MERGE_KINDS = ("add", "concat", "mul", "mean")
MERGE_SYMBOLS = {"add": "+", "concat": "C", "mul": "×", "mean": "avg"}

# Paul Tol's "light" scheme: colours that colour-blind readers tell apart, under dark text.
COLOURS = {
    "input": "#DDDDDD", "output": "#DDDDDD", "other": "#FFFFFF",
    "conv": "#77AADD", "pool": "#EEDD88", "fc": "#FFAABB", "act": "#BBCC33",
    "norm": "#99DDFF", "dropout": "#EE8866", "block": "#BBCC33",
    "concat": "#44BB99", "add": "#44BB99", "mul": "#44BB99", "mean": "#44BB99",
}
INK = "#222222"
FONT_SIZE = 8        # points
CHAR_WIDTH = 0.062   # inches per character at 8 pt, a generous average (digits, "×", "@")
LINE_HEIGHT = 0.145  # inches per line at 8 pt
PAD = 0.14           # inches of box around the text, top and bottom together
GAP = 0.3            # inches between consecutive layers
GAP_ACROSS = 0.2     # inches between boxes side by side
MERGE_RADIUS = 0.15  # inches
STACK_OFFSET = 0.05  # inches: a box standing for several blocks has a second box behind it
SKIP_RAD = 0.15      # the least a skip connection bends (matplotlib's arc3 "rad")
MAX_INCHES = 30      # a figure drawn on its own is at most this long; beyond, collapse or expand
TITLE_INCHES_PER_CHAR = 0.075  # about the width of one character of a 10-point title

NORMS = {nn.BatchNorm1d: "batch norm", nn.BatchNorm2d: "batch norm", nn.LayerNorm: "layer norm",
         nn.GroupNorm: "group norm", nn.LocalResponseNorm: "local response norm"}
ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Mish,
               nn.Tanh, nn.Sigmoid, nn.Hardswish, nn.Hardsigmoid, nn.Softmax)
SHORT = {"batch norm": "BN", "layer norm": "LN", "group norm": "GN", "local response norm": "LRN"}

# What a function called in forward becomes (by its name in the traced graph).
ACTIVATION_FUNCTIONS = {
    "relu": "ReLU", "relu_": "ReLU", "relu6": "ReLU6", "leaky_relu": "LeakyReLU", "elu": "ELU",
    "gelu": "GELU", "silu": "SiLU", "mish": "Mish", "sigmoid": "sigmoid", "tanh": "tanh",
    "hardtanh": "hardtanh", "hardswish": "hardswish", "softmax": "softmax",
    "log_softmax": "log softmax", "scaled_tanh": "scaled tanh",
}
DROPOUT_FUNCTIONS = ("dropout", "dropout2d", "alpha_dropout")
RESHAPES = ("flatten", "view", "reshape", "squeeze", "unsqueeze", "contiguous", "clone", "permute",
            "transpose", "getitem", "to", "float", "detach", "type_as", "cat", "concat", "stack")
ARITHMETIC = ("add", "iadd", "sub", "isub", "mul", "imul", "truediv", "div", "neg", "pos")
MERGE_FUNCTIONS = {"add": "add", "iadd": "add", "cat": "concat", "concat": "concat",
                   "concatenate": "concat", "mul": "mul", "imul": "mul", "stack": "stack"}
POOL_FUNCTIONS = {"max_pool2d": "max", "avg_pool2d": "avg"}
ADAPTIVE_POOL_FUNCTIONS = {"adaptive_avg_pool2d": "avg", "adaptive_max_pool2d": "max"}

# --------------------------------------------------------------------------- the figure's graph


@dataclass(frozen=True)
class Node:
    """One box (or merge circle) of the figure.

    Args:
        name: a unique id, e.g. ``"c1"`` or ``"layer1.0–1"``; the patch's gid.
        kind: one of ``KINDS``; it sets the colour (merge kinds are circles).
        text: the box's text, lines separated by ``"\\n"``.
        inputs: the names of the nodes that feed this one.
        shape: the output shape, batch dimension first (empty when unknown).
        members: the names of the traced nodes (``cnnzoo.graph.Node.name``) it stands for.
        count: how many repeated blocks (or identical layers) the box stands for (1 for one layer).
    """

    name: str
    kind: str
    text: str
    inputs: tuple[str, ...] = ()
    shape: tuple[int, ...] = ()
    members: tuple[str, ...] = ()
    count: int = 1


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

    def edges(self) -> set[tuple[str, str]]:
        """The (source, target) pairs of names the figure draws as arrows."""
        return {(source, node.name) for node in self.nodes for source in node.inputs}


# --------------------------------------------------------------------------- labels


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


def _argument(node: _graph.Node, index: int, keyword: str, default=None):
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(keyword, default)


def _function_box(node: _graph.Node, input_shape: tuple[int, ...]) -> tuple[str, str]:
    """The kind and text of a box for a function called in forward (``F.max_pool2d``, ``x.mean``, ...)."""
    name = node.target
    if name in POOL_FUNCTIONS:
        kernel = _argument(node, 1, "kernel_size")
        stride = _argument(node, 2, "stride") or kernel
        return "pool", f"{POOL_FUNCTIONS[name]} pool {_size(kernel)}{_stride(stride)}"
    if name in ADAPTIVE_POOL_FUNCTIONS:
        size = _argument(node, 1, "output_size")
        how = ADAPTIVE_POOL_FUNCTIONS[name]
        return "pool", f"global {how} pool" if _pair(size) == (1, 1) else f"adaptive {how} pool {_size(size)}"
    if name == "mean" and len(input_shape) == 4 and len(node.shape) in (2, 4) and node.shape[2:] in ((), (1, 1)):
        return "pool", "global avg pool"
    return "other", name


# --------------------------------------------------------------------------- from the traced graph


@dataclass
class _Box:
    """A box being built: the traced nodes it stands for and the lines it will show."""

    kind: str
    members: list[str]
    shape: tuple[int, ...]
    lines: list[str] = field(default_factory=list)   # the layer's label
    title: str = ""                                    # the name line ("" for none)
    before: list[str] = field(default_factory=list)  # element-wise layers before the layer ("BN", "ReLU")
    after: list[str] = field(default_factory=list)   # element-wise layers after it
    count: int = 1
    foldable: bool = True      # later element-wise layers may join it
    prefix_only: bool = False  # element-wise layers only, so far: the next layer may join it
    stack: bool = False        # a torch.stack, which a mean over its first dimension makes a join
    scaled: bool = False       # multiplied by a number (LeNet's A tanh(S a), traced through)

    def text_lines(self) -> list[str]:
        ops = [" · ".join(self.before)] if self.before else []
        ops += self.lines
        ops += [" · ".join(self.after)] if self.after else []
        return [self.title, *ops] if self.title else ops


def _relative(path: str, root: str | None) -> str:
    return path[len(root) + 1:] if root else path


def _inner_scope(node: _graph.Node, root: str | None) -> tuple[str, ...]:
    """The scope of ``node`` below ``root`` (all of it when ``root`` is None)."""
    if root is None:
        return node.scope
    return tuple(path for path in node.scope if path.startswith(root + "."))


def _groups(nodes: list[_graph.Node], root: str | None, depth: int | None) -> dict[str, str]:
    """The block each node belongs to (node name -> module path), for the nodes in a block.

    ``depth=None``: the blocks are the innermost modules that hold a merge (an add, a cat),
    the outermost of them where they nest. ``depth=k``: the modules ``k`` levels below the root.
    """
    if depth == 0:
        return {}
    if depth is None:
        holders = set()
        for node in nodes:
            scope = _inner_scope(node, root)
            if node.op == "function" and node.target in MERGE_FUNCTIONS and len(node.inputs) >= 2 and scope:
                holders.add(scope[-1])
        found = {}
        for node in nodes:
            block = next((path for path in _inner_scope(node, root) if path in holders), None)
            if block is not None:
                found[node.name] = block
        return found
    return {node.name: _inner_scope(node, root)[depth - 1] for node in nodes
            if len(_inner_scope(node, root)) >= depth}


def _token(node: _graph.Node, block: str) -> tuple:
    """What a node is inside its block, channels and strides left out (for comparing blocks)."""
    if node.op == "module":
        kernel = getattr(node.module, "kernel_size", None)
        return _relative(node.target, block), type(node.module).__name__, kernel
    scope = tuple(_relative(path, block) for path in node.scope if path.startswith(block + "."))
    return scope, node.target, len(node.inputs)


def _child(token: tuple) -> str:
    """The block's child a token lies in (``"downsample"`` for ``"downsample.0"``)."""
    where = token[0]
    if isinstance(where, tuple):
        where = where[0] if where else ""
    return where.split(".")[0]


def _run_name(first: str, last: str) -> str:
    """``layer1.0``, ``layer1.1`` -> ``"layer1.0–1"``; ``inception4a``, ``inception4e`` -> ``"inception4a–e"``."""
    common = 0
    while common < min(len(first), len(last)) and first[common] == last[common]:
        common += 1
    while common and first[common - 1].isdigit() and last[common:common + 1].isdigit():
        common -= 1     # features.24, features.28 -> "features.24–28", not "features.24–8"
    return f"{first}–{last[common:]}" if common else f"{first}–{last}"


def graph_from_trace(traced: _graph.ModelGraph, model: nn.Module, *, expand: str | None = None,
                     depth: int | None = None) -> Graph:
    """The figure's graph of a traced model: blocks collapsed, element-wise layers folded.

    Args:
        traced: what ``cnnzoo.graph.trace(model, input_size)`` returned.
        model: the traced model (for the blocks' class names).
        expand: the path of one module (``"layer1.0"``, ``"inception3a"``) to draw alone, inside out;
            ``None`` draws the whole model.
        depth: which modules are blocks: ``None`` the innermost modules that hold a merge (ResNet's
            blocks, Inception modules), ``0`` none (every layer a box), ``k`` the modules ``k`` levels
            below the model (or below ``expand``).
    """
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or depth < 0):
        raise ValueError(f"depth must be None or a whole number >= 0; got {depth!r}")
    by_name = {node.name: node for node in traced.nodes}
    nodes = [node for node in traced.nodes if node.op != "output"]
    sources: list[str] = []                  # traced nodes outside ``expand`` that it reads
    if expand is not None:
        inside = [node for node in traced.inside(expand) if node.op != "output"]
        if not inside:
            blocks = sorted(set(_groups(nodes, None, None).values()))
            raise ValueError(f"expand={expand!r} names no module that runs in forward; "
                             f"blocks: {', '.join(blocks) or 'none'}")
        if len(inside) == 1 and inside[0].op == "module" and inside[0].target == expand:
            raise ValueError(f"expand={expand!r} is a single layer; name a module made of layers")
        names = {node.name for node in inside}
        sources = list(dict.fromkeys(i for node in inside for i in node.inputs if i not in names))
        nodes = inside
    readers: dict[str, list[str]] = {}
    for node in traced.nodes:
        for name in node.inputs:
            readers.setdefault(name, []).append(node.name)

    boxes: dict[str, _Box] = {}               # box id -> box, in order of creation
    owner: dict[str, str] = {}                # traced node -> box id

    def add_box(node_name: str, box: _Box) -> None:
        boxes[node_name] = box
        owner[node_name] = node_name

    def join(node: _graph.Node, box_id: str) -> _Box:
        boxes[box_id].members.append(node.name)
        owner[node.name] = box_id
        return boxes[box_id]

    for index, source in enumerate(sources):  # the block's inputs, drawn as input boxes
        title = "input" if len(sources) == 1 else f"input {index + 1}"
        add_box(source, _Box("input", [source], by_name[source].shape, title=title, foldable=False))

    # Blocks first: every node of a block belongs to the block's box.
    group_of = _groups(nodes, expand, depth)
    group_boxes: dict[str, str] = {}
    for node in nodes:
        block = group_of.get(node.name)
        if block is None:
            continue
        if block not in group_boxes:
            group_boxes[block] = node.name
            add_box(node.name, _Box("block", [], node.shape, foldable=False))
        join(node, group_boxes[block]).shape = node.shape

    for node in nodes:
        if node.name in owner:
            continue
        if node.op == "input":
            add_box(node.name, _Box("input", [node.name], node.shape, title="input", foldable=False))
            continue
        inputs = node.inputs
        single = owner.get(inputs[0]) if len(inputs) == 1 else None
        target = boxes.get(single) if single else None
        sole_reader = len(inputs) == 1 and readers.get(inputs[0]) == [node.name]
        same_scope = target is not None and node.scope == by_name[target.members[0]].scope

        if node.op == "module":
            kind, text = describe(node.module)
            elementwise = kind in ("act", "norm", "dropout") and by_name[inputs[0]].shape == node.shape \
                if len(inputs) == 1 else False
            token = SHORT.get(text, text)
        else:
            name = node.target
            kind, text, elementwise, token = "other", name, False, ""
            if name in MERGE_FUNCTIONS and len(inputs) >= 2:
                merge = MERGE_FUNCTIONS[name]
                first = boxes.get(owner.get(inputs[0], ""))
                if (merge == "add" and first is not None and first.kind == "add" and
                        readers.get(inputs[0]) == [node.name] and
                        node.scope == by_name[first.members[0]].scope):   # a + b + c: one merge
                    join(node, owner[inputs[0]]).shape = node.shape
                    continue
                kind = "other" if merge == "stack" else merge
                add_box(node.name, _Box(kind, [node.name], node.shape, lines=["stack"] if merge == "stack" else [],
                                        foldable=False, stack=merge == "stack"))
                continue
            if len(inputs) == 1 and target is not None and sole_reader and target.stack \
                    and name == "mean" and _argument(node, 1, "dim", 0) == 0:   # stack(...).mean(0)
                join(node, single)
                target.kind, target.lines, target.shape, target.stack = "mean", [], node.shape, False
                continue
            if len(inputs) == 1 and target is not None and sole_reader and target.kind == "add" and \
                    name in ("truediv", "div", "mul"):                          # (a + b) / 2
                terms = len({owner[i] for m in target.members for i in by_name[m].inputs} - {single})
                factor = _argument(node, 1, "other")
                if isinstance(factor, (int, float)) and terms and \
                        (factor == terms if name != "mul" else abs(factor * terms - 1) < 1e-9):
                    join(node, single)
                    target.kind, target.shape = "mean", node.shape
                    continue
            if len(inputs) == 1 and name in ACTIVATION_FUNCTIONS:
                kind, text, elementwise = "act", ACTIVATION_FUNCTIONS[name], True
                token = text
            elif len(inputs) == 1 and name in DROPOUT_FUNCTIONS:
                kind, text, elementwise = "dropout", f"dropout {_argument(node, 1, 'p', 0.5):g}", True
                token = text
            elif len(inputs) == 1 and (name in RESHAPES or name in ARITHMETIC):
                # Reshapes and scaling by a number join the box they read; the box keeps its shape.
                box = join(node, single)
                if name in ("mul", "truediv", "div"):
                    ops = box.after or box.before
                    if ops and ops[-1] == "tanh":
                        ops[-1] = "scaled tanh"       # LeNet's A tanh(S a), traced through
                    box.scaled = True
                continue
            else:
                kind, text = _function_box(node, by_name[inputs[0]].shape if inputs else ())

        if elementwise:
            if target is not None and target.foldable and sole_reader and same_scope and target.kind not in MERGE_KINDS:
                join(node, single).shape = node.shape
                if token == "tanh" and target.scaled:
                    token = "scaled tanh"
                (target.before if target.prefix_only else target.after).append(token)
                continue
            add_box(node.name, _Box(kind, [node.name], node.shape, before=[token], prefix_only=True))
            continue
        if node.op == "module" and target is not None and target.prefix_only and sole_reader and same_scope:
            # Pre-activation: "BN · ReLU" then this layer, one box.
            box = join(node, single)
            box.kind, box.shape, box.prefix_only = kind, node.shape, False
            box.lines = text.split("\n")
            box.title = _module_title(node)  # the layer's name, not the prefix's
            continue
        title = _module_title(node) if node.op == "module" else ""
        add_box(node.name, _Box(kind, [node.name], node.shape, lines=text.split("\n"), title=title))

    return _assemble(boxes, owner, by_name, model, expand, group_boxes, layer_runs=depth != 0)


RUN_KINDS = ("conv", "fc", "act", "norm", "dropout", "other")   # layers a run may repeat (not pools)
RUN_LINE = 24    # characters: a run's label, folded layers and count on one line when this short


def _same_layer(a: _Box, b: _Box) -> bool:
    """Whether two layer boxes show the same label and the same output shape."""
    return (a.kind == b.kind and a.kind in RUN_KINDS and a.shape == b.shape and
            (a.before, a.lines, a.after, a.scaled) == (b.before, b.lines, b.after, b.scaled))


def _collapse_layer_runs(boxes: dict[str, _Box], owner: dict[str, str], by_name: dict) -> None:
    """Fold each run of identical layers in a chain into its first box, with a count (in place)."""
    edges_in: dict[str, list[str]] = {}
    edges_out: dict[str, set[str]] = {box_id: set() for box_id in boxes}
    for box_id, box in boxes.items():
        edges_in[box_id] = list(dict.fromkeys(owner[i] for m in box.members for i in by_name[m].inputs
                                              if i in owner and owner[i] != box_id))
        for source in edges_in[box_id]:
            edges_out[source].add(box_id)
    head_of: dict[str, str] = {}          # a box in a run -> the run's first box
    for box_id in boxes:
        if len(edges_in[box_id]) != 1:
            continue
        previous = edges_in[box_id][0]
        head = head_of.get(previous, previous)
        if edges_out[previous] == {box_id} and _same_layer(boxes[head], boxes[box_id]):
            head_of[box_id] = head
    last: dict[str, str] = {}
    for box_id, head in head_of.items():
        boxes[head].members += boxes[box_id].members
        boxes[head].count += 1
        for member in boxes[box_id].members:
            owner[member] = head
        last[head] = box_id
        del boxes[box_id]
    for head, final in last.items():
        box = boxes[head]
        if box.title and by_name[final].op == "module":
            box.title = _run_name(box.title, by_name[final].target)
        line = " · ".join([*box.before, *box.lines, *box.after]) + f" ×{box.count}"
        if len(box.lines) == 1 and len(line) <= RUN_LINE:
            box.before, box.lines, box.after = [], [line], []
        else:
            box.lines[-1] += f" ×{box.count}"


def _assemble(boxes: dict[str, _Box], owner: dict[str, str], by_name: dict, model: nn.Module,
              expand: str | None, group_boxes: dict[str, str], layer_runs: bool = True) -> Graph:
    """Name the boxes, collapse runs of equal blocks (and of identical layers), and order them for drawing."""
    block_of_box = {box_id: block for block, box_id in group_boxes.items()}
    edges_in: dict[str, list[str]] = {}
    for box_id, box in boxes.items():
        found = [owner[i] for m in box.members for i in by_name[m].inputs if i in owner and owner[i] != box_id]
        edges_in[box_id] = list(dict.fromkeys(found))
    edges_out: dict[str, set[str]] = {box_id: set() for box_id in boxes}
    for box_id, sources in edges_in.items():
        for source in sources:
            edges_out[source].add(box_id)

    # Runs of equal blocks, each reading only the one before: one box with a count.
    def tokens(box_id: str) -> list[tuple]:
        block = block_of_box[box_id]
        return [_token(by_name[m], block) for m in boxes[box_id].members]

    ordered_blocks = list(group_boxes.values())
    merged_into: dict[str, str] = {}
    extra_children: dict[str, list[str]] = {}
    run_last: dict[str, str] = {}
    for previous, current in zip(ordered_blocks, ordered_blocks[1:]):
        head = merged_into.get(previous, previous)
        classes = {type(model.get_submodule(block_of_box[b])).__name__ for b in (previous, current)}
        chained = edges_in[current] == [previous] and edges_out[previous] == {current}
        if len(classes) != 1 or not chained:
            continue
        mine, theirs = tokens(previous), tokens(current)
        extra = sorted({_child(t) for t in mine} - {_child(t) for t in theirs})
        if head != previous:    # only a run's first block may have children the others lack
            extra = []
        mine = [t for t in mine if _child(t) not in extra]
        if mine != theirs:
            continue
        if extra:
            extra_children[head] = extra
        merged_into[current] = head
        run_last[head] = current

    for current, head in merged_into.items():        # fold each run into its first block's box
        box = boxes[head]
        box.members += boxes[current].members
        box.count += 1
        for member in boxes[current].members:
            owner[member] = head
        box.shape = boxes[current].shape
        del boxes[current]
    if layer_runs:
        _collapse_layer_runs(boxes, owner, by_name)

    # Names: a box that is exactly one module's nodes is named after it.
    names: dict[str, str] = {}
    used: set[str] = set()
    for box_id, box in boxes.items():
        if box.kind == "block":
            block = block_of_box[box_id]
            cls = type(model.get_submodule(block)).__name__
            last = block_of_box[run_last[box_id]] if box_id in run_last else block
            box.title = _relative(block, expand) if last == block else \
                _run_name(_relative(block, expand), _relative(last, expand))
            box.lines = [f"{cls} ×{box.count}" if box.count > 1 else cls]
            if box_id in extra_children:
                box.lines.append(f"(first: + {', '.join(extra_children[box_id])})")
        elif box.kind not in ("input",) + MERGE_KINDS and len(box.members) > 1:
            module_paths = [p for p in by_name[box.members[0]].scope]
            # A flatten or view that joined the box from outside (GoogLeNet's auxiliary head
            # flattens its conv block's output) does not stop the box taking the block's name.
            for path in reversed(module_paths):
                inside = {n.name for n in by_name.values() if path in n.scope or
                          (n.op == "module" and n.target == path)}
                joined = {m for m in box.members if m not in inside and by_name[m].op != "module"
                          and by_name[m].target in RESHAPES}
                if inside == set(box.members) - joined:
                    box.title = path
                    break
        if box.title and box.kind != "input":
            box.title = _relative(box.title, expand) if expand and box.title.startswith(expand + ".") else box.title
        name = box.title or by_name[box_id].name
        while name in used:
            name += "'"
        used.add(name)
        names[box_id] = name

    # Order: first member's position, then sources before readers (Kahn's algorithm).
    position = {name: index for index, name in enumerate(by_name)}
    pending = {box_id: {owner[i] for m in box.members for i in by_name[m].inputs if i in owner} - {box_id}
               for box_id, box in boxes.items()}
    order: list[str] = []
    while pending:
        ready = [b for b, needs in pending.items() if not needs]
        if not ready:
            raise ValueError("the blocks chosen make a cycle in the figure; draw with depth=0")
        chosen = min(ready, key=lambda b: position[boxes[b].members[0]])
        order.append(chosen)
        del pending[chosen]
        for needs in pending.values():
            needs.discard(chosen)

    nodes = []
    for box_id in order:
        box = boxes[box_id]
        inputs = tuple(dict.fromkeys(names[owner[i]] for m in box.members for i in by_name[m].inputs
                                     if i in owner and owner[i] != box_id))
        if box.kind in MERGE_KINDS:
            text = f"{box.kind}\n{_shape_text(box.shape)}"
        else:
            text = "\n".join(line for line in (*box.text_lines(), _shape_text(box.shape)) if line)
        nodes.append(Node(names[box_id], box.kind, text, inputs, tuple(box.shape), tuple(box.members), box.count))
    return Graph(nodes)


def _trace(model: nn.Module, input_size: tuple[int, ...], train: bool) -> _graph.ModelGraph:
    """``cnnzoo.graph.trace``, with a clear ``ValueError`` when forward fails on the input."""
    try:
        return _graph.trace(model, input_size, train=train)
    except RuntimeError as error:   # e.g. an add of tensors whose shapes do not match
        raise ValueError(
            f"{type(model).__name__}'s forward fails on an input of shape {tuple(input_size)}, so it "
            f"cannot be drawn: {str(error).strip().splitlines()[0]}"
        ) from error


def graph_from_model(model: nn.Module, input_size: tuple[int, ...], *, expand: str | None = None,
                     depth: int | None = None, train: bool = False) -> Graph:
    """The figure's graph of ``model``, traced by ``cnnzoo.graph.trace`` on ``torch.zeros(input_size)``.

    Args:
        model: the network to draw.
        input_size: the input's shape, batch dimension first, e.g. ``(1, 1, 32, 32)``.
        expand: a module's path to draw alone, inside out (see :func:`graph_from_trace`).
        depth: which modules are blocks (see :func:`graph_from_trace`).
        train: trace in training mode (GoogLeNet's auxiliary classifiers run only then).
    """
    return graph_from_trace(_trace(model, input_size, train), model, expand=expand, depth=depth)


# --------------------------------------------------------------------------- drawing


def _check_direction(direction: str | None) -> None:
    if direction not in ("LR", "TB", None):
        raise ValueError(f"direction must be 'LR' (left to right), 'TB' (top to bottom) or None "
                         f"(whichever is shorter); got {direction!r}")


def _box_size(graph: Graph) -> tuple[float, dict[str, float]]:
    """The common width of the boxes, and each box's height, in inches."""
    boxes = [node for node in graph.nodes if node.kind not in MERGE_KINDS] or graph.nodes
    width = max(len(line) for node in boxes for line in node.text.split("\n")) * CHAR_WIDTH + 0.3
    heights = {node.name: (node.text.count("\n") + 1) * LINE_HEIGHT + PAD for node in graph.nodes}
    return width, heights


def _layout(graph: Graph, direction: str) -> tuple[dict, dict, dict]:
    """Layer, centre and half size (in inches) of every node.

    A node's layer is 1 + the deepest layer among its inputs. Across the flow, a node sits
    at the mean position of its inputs (a branch continues in its own column), pushed aside
    as little as it takes to clear its neighbours.
    """
    box_w, heights = _box_size(graph)
    half_size = {}
    for node in graph.nodes:
        if node.kind in MERGE_KINDS:   # the circle, and its label down on the right
            half_size[node.name] = (MERGE_RADIUS + (len(_shape_text(node.shape)) + 1) * CHAR_WIDTH,
                                    MERGE_RADIUS + 0.12)
        else:
            extra = STACK_OFFSET if node.count > 1 else 0.0
            half_size[node.name] = (box_w / 2 + extra, heights[node.name] / 2 + extra)
    layer: dict[str, int] = {}
    members: dict[int, list[str]] = {}
    for node in graph.nodes:
        layer[node.name] = 1 + max((layer[name] for name in node.inputs), default=-1)
        members.setdefault(layer[node.name], []).append(node.name)

    # Along the flow: each layer as thick as its thickest node.
    def along(name: str) -> float:      # half the node's extent along the flow
        w, h = half_size[name]
        return w if direction == "LR" else h

    def across(name: str) -> float:
        w, h = half_size[name]
        return h if direction == "LR" else w

    offset, level = {}, 0.0
    for index in sorted(members):
        thickness = max(along(name) for name in members[index])
        offset[index] = level + thickness
        level += 2 * thickness + GAP
    inputs_of = {node.name: node.inputs for node in graph.nodes}
    place: dict[str, float] = {}
    for index in sorted(members):
        names = members[index]
        wanted = {name: (sum(place[i] for i in inputs_of[name]) / len(inputs_of[name]) if inputs_of[name] else 0.0)
                  for name in names}
        names = sorted(names, key=lambda n: (wanted[n], names.index(n)))
        placed: list[float] = []
        for i, name in enumerate(names):
            x = wanted[name]
            if i:
                x = max(x, placed[-1] + across(names[i - 1]) + across(name) + GAP_ACROSS)
            placed.append(x)
        shift = sum(wanted[n] - p for n, p in zip(names, placed)) / len(names)
        for name, p in zip(names, placed):
            place[name] = p + shift
    centre = {}
    for node in graph.nodes:
        a, c = offset[layer[node.name]], place[node.name]
        centre[node.name] = (a, -c) if direction == "LR" else (c, -a)
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


def _hits(points: list[tuple[float, float]], boxes: list[tuple[float, float, float, float]]) -> bool:
    return any(abs(px - x) < w + 0.05 and abs(py - y) < h + 0.05 for px, py in points for x, y, w, h in boxes)


def _skip_rad(start: tuple[float, float], end: tuple[float, float], direction: str,
              boxes: list[tuple[float, float, float, float]], side: int = 1) -> float:
    """The least bend (from SKIP_RAD up) that takes a skip connection around ``boxes``.

    It bends away from the middle line; when both ends are on it, to ``side`` (1: right in
    "TB", up in "LR"; -1: the other way).

    Args:
        start, end: the centres of the two nodes it joins.
        direction: "LR" or "TB".
        boxes: the other nodes, as (x, y, half width, half height).
        side: where an arc between two nodes on the middle line goes.
    """
    (x0, y0), (x1, y1) = start, end
    across = y0 + y1 if direction == "LR" else x0 + x1
    out = side if abs(across) < 1e-9 else (1 if across > 0 else -1)
    out_x, out_y = (0, out) if direction == "LR" else (out, 0)
    sign = 1 if (y1 - y0) * out_x - (x1 - x0) * out_y > 0 else -1   # the sign of rad that bends outward
    for step in range(20):
        rad = sign * (SKIP_RAD + 0.05 * step)
        if not _hits(_arc_points(start, end, rad), boxes):
            break
    return rad


def _module_title(node: _graph.Node) -> str:
    """A module box's name line: its path, with the call number from the second call on."""
    return node.target if node.call == 1 else f"{node.target} ({node.call})"


def draw_graph(graph: Graph, *, direction: str | None = "LR", title: str | None = None, ax=None) -> Figure:
    """Draw ``graph`` in layers, each node one step after its deepest input.

    Edges are arrows; one that would cross a box (a skip connection, a branch joining later)
    is an arc bent around the boxes in between. One unit of the axes is one inch, so that
    8 pt text fits its box; in a given ``ax`` the text grows or shrinks with the drawing.

    Args:
        graph: the nodes to draw.
        direction: ``"LR"`` (left to right, like LeNet's figure), ``"TB"`` (top to bottom), or
            ``None``: left to right unless that is longer than 12 inches, then top to bottom.
        title: a title above the figure.
        ax: the axes to draw into; a new figure of the right size when ``None``.

    Raises:
        ValueError: on a bad direction, a bad graph, or (without ``ax``) a figure longer than
            ``MAX_INCHES``.
    """
    _check_direction(direction)
    graph.validate()
    if direction is None:
        _, centre, half_size = _layout(graph, "LR")
        xs = [x + s * half_size[n][0] for n, (x, _) in centre.items() for s in (-1, 1)]
        direction = "LR" if max(xs) - min(xs) <= 12 else "TB"
    layer, centre, half_size = _layout(graph, direction)
    edges = []                  # (source, target, rad); rad = 0 is a straight arrow
    sides: dict[str, int] = {}  # arcs from one source go to one side; the next source's to the other
    for node in graph.nodes:
        for source in node.inputs:
            others = [(*centre[name], *half_size[name]) for name in centre if name not in (source, node.name)]
            rad = 0.0
            if layer[node.name] - layer[source] > 1 or _hits(_arc_points(centre[source], centre[node.name], 0), others):
                side = sides.setdefault(source, 1 if len(sides) % 2 == 0 else -1)
                rad = _skip_rad(centre[source], centre[node.name], direction, others, side)
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
        if max(width, height) > MAX_INCHES:
            raise ValueError(
                f"the figure would be {width:.0f} x {height:.0f} inches (at most {MAX_INCHES} drawn on its own); "
                "draw the blocks collapsed (depth=None), one block with expand=..., or into a given ax"
            )
        title_height = 0.35 if title else 0.0
        # A narrow drawing (one column of boxes) is widened to fit its title, and centred.
        fig_width = max(width, TITLE_INCHES_PER_CHAR * len(title) + 0.3) if title else width
        margin = (fig_width - width) / 2 / fig_width
        fig = Figure(figsize=(fig_width, height + title_height))  # not pyplot's: shown once, as the cell's result
        ax = fig.subplots()
        fig.subplots_adjust(left=margin, right=1 - margin, bottom=0, top=height / (height + title_height))
    available = ax.get_window_extent().transformed(ax.figure.dpi_scale_trans.inverted())
    scale = min(available.width / width, available.height / height)   # text and lines grow or shrink with it

    patches = {}
    for node in graph.nodes:
        x, y = centre[node.name]
        if node.kind in MERGE_KINDS:
            patch = Circle((x, y), MERGE_RADIUS, facecolor=COLOURS[node.kind], edgecolor=INK, linewidth=scale)
            symbol = MERGE_SYMBOLS[node.kind]
            size = 10 if len(symbol) == 1 else 6.5
            ax.text(x, y, symbol, ha="center", va="center", fontsize=size * scale, fontweight="bold", color=INK)
            # The merged shape, down on the right: away from the arrows coming in.
            ax.text(x + 0.7 * MERGE_RADIUS, y - 0.8 * MERGE_RADIUS, _shape_text(node.shape),
                    ha="left", va="top", fontsize=7 * scale, color=INK)
        else:
            half_w, half_h = half_size[node.name]
            if node.count > 1:   # a stack of blocks: a second box behind, down on the right
                half_w, half_h = half_w - STACK_OFFSET, half_h - STACK_OFFSET
                behind = FancyBboxPatch((x - half_w + STACK_OFFSET, y - half_h - STACK_OFFSET), 2 * half_w,
                                        2 * half_h, boxstyle="round,pad=0,rounding_size=0.08",
                                        facecolor=COLOURS[node.kind], edgecolor=INK, linewidth=0.8 * scale)
                behind.set_gid(f"{node.name} (behind)")
                ax.add_patch(behind)
            patch = FancyBboxPatch((x - half_w, y - half_h), 2 * half_w, 2 * half_h,
                                   boxstyle="round,pad=0,rounding_size=0.08",
                                   facecolor=COLOURS[node.kind], edgecolor=INK, linewidth=0.8 * scale)
            ax.text(x, y, node.text, ha="center", va="center", fontsize=FONT_SIZE * scale, color=INK,
                    linespacing=1.15, gid=f"{node.name} (text)")
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


def draw(model: nn.Module, input_size: tuple[int, ...], *, direction: str | None = None,
         title: str | None = None, ax=None, expand: str | None = None, depth: int | None = None,
         train: bool = False) -> Figure:
    """The figure of ``model``, drawn from its traced graph: ``draw_graph(graph_from_model(...))``.

    Args:
        model: the network to draw.
        input_size: the input's shape, batch dimension first, e.g. ``(1, 1, 32, 32)``.
        direction: ``"LR"`` (left to right), ``"TB"`` (top to bottom), or ``None``: whichever fits.
        title: a title above the figure.
        ax: the axes to draw into; a new figure when ``None``.
        expand: a block's path (``"layer1.0"``, ``"inception3a"``) to draw alone, inside out.
        depth: which modules are blocks: ``None`` those holding a merge, ``0`` none, ``k`` those ``k``
            levels down.
        train: trace in training mode (GoogLeNet's auxiliary classifiers run only then).
    """
    _check_direction(direction)
    graph = graph_from_model(model, input_size, expand=expand, depth=depth, train=train)
    return draw_graph(graph, direction=direction, title=title, ax=ax)
