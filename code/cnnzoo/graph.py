"""The computation graph of a model, as its ``forward`` really runs it.

``analysis`` and ``diagrams`` both read a network from this graph, so that a table or a
figure cannot disagree with the code: the graph is traced from ``forward`` by
``torch.fx`` (symbolic tracing), then run once on zeros to record what every node
produced.

    graph = trace(model, (1, 3, 224, 224))
    for node in graph.nodes:
        print(node.name, node.op, node.target, node.inputs, node.shape, node.macs)

A node is one call: a layer (``op="module"``), a function or tensor method written in
``forward`` (``op="function"``, e.g. a residual ``add``, a ``cat``, ``flatten``), the
input or the output. A layer called twice gives two nodes. Each node knows the nodes it
reads, the shape it produced, its multiply-accumulates (counted by PyTorch's
``FlopCounterMode``) and the modules it runs inside (``scope``), which is what lets a
figure collapse a residual block into one box.

What counts as one layer (a leaf of the trace): every layer of ``torch.nn`` (Conv2d,
BatchNorm2d, ReLU, ...), any module without submodules, and any module that declares a
``kernel_size`` (it acts as one spatial layer, like LeNet-5's partial C3). Everything
else (Sequential, a residual block, an Inception module) is traced through.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Iterator

import torch
import torch.fx
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ._forward import check_input_size, model_device

__all__ = ["Node", "ModelGraph", "Tracer", "trace"]


# --------------------------------------------------------------------------- the nodes


@dataclass(frozen=True)
class Node:
    """One call in the model's forward pass.

    Args:
        name: unique within the graph (torch.fx's node name, e.g. ``"layer1_0_conv1"``, ``"add_3"``).
        op: ``"input"``, ``"module"`` (a layer), ``"function"`` (a function or a tensor method
            called in ``forward``) or ``"output"``.
        target: the layer's path for a module (``"layer1.0.conv1"``), the function's name
            otherwise (``"add"``, ``"cat"``, ``"flatten"``).
        inputs: the names of the nodes whose tensors it reads, in argument order.
        shape: the shape of the tensor it produced, batch first (the first tensor, if several).
        scope: the paths of the modules it runs inside, outermost first, e.g.
            ``("layer1", "layer1.0")`` for a node of ResNet's first block.
        call: 1 for a layer's first call, 2 for its second, ...; 1 for other nodes.
        macs: multiply-accumulates (FlopCounterMode's FLOPs / 2; element-wise work counts 0).
        params: parameters of the layer, counted at its first call only (0 for later calls),
            and parameters a function reads directly (e.g. ``x * self.scale``).
        output_bytes: the memory its output newly takes, for the whole batch: 0 for an in-place
            operation (``ReLU(inplace=True)``), a view (``flatten``) or a tuple of tensors made earlier.
        module: the layer (``op="module"``), else ``None``.
        args: the call's arguments, other nodes written as their names (e.g. ``F.max_pool2d``'s
            kernel size); ``kwargs`` likewise.
        label: a name a reader can find in the model: the layer's path (``"layer1.0.conv1"``),
            ``"relu (call 2)"`` for a layer's second call, and for a function its name and the
            module it runs in (``"add (layer1.0)"``, ``"cat (inception3a)"``), with
            ``", call k"`` from its second use there (``"add (layer1.0, call 2)"``);
            ``"(input)"`` and ``"(output)"`` for those two. Unique within the graph.
    """

    name: str
    op: str
    target: str
    inputs: tuple[str, ...]
    shape: tuple[int, ...]
    scope: tuple[str, ...] = ()
    call: int = 1
    macs: int = 0
    params: int = 0
    output_bytes: int = 0
    module: nn.Module | None = field(default=None, compare=False, repr=False)
    args: tuple = field(default=(), compare=False, repr=False)
    kwargs: dict = field(default_factory=dict, compare=False, repr=False)
    label: str = ""


@dataclass
class ModelGraph:
    """The traced graph: its nodes in the order they ran, inputs always before their readers.

    Args:
        nodes: the nodes; the first is the input, the last the output.
        input_size: the input's shape the graph was run with.
        training: whether it was traced in training mode (auxiliary heads included).
        model_name: the model's class name, for titles.
        not_run: the modules whose parameters this pass never used, as path -> parameters
            (GoogLeNet's ``aux1`` and ``aux2`` in eval mode); empty when every parameter ran.
    """

    nodes: list[Node]
    input_size: tuple[int, ...]
    training: bool = False
    model_name: str = ""
    not_run: dict[str, int] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __getitem__(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node named {name!r}; nodes: {', '.join(n.name for n in self.nodes)}")

    @property
    def input(self) -> Node:
        """The input node."""
        return self.nodes[0]

    @property
    def output(self) -> Node:
        """The output node; its ``inputs`` are the tensors ``forward`` returns (main output first)."""
        return self.nodes[-1]

    def by_label(self, label: str) -> Node:
        """The node whose :attr:`Node.label` is ``label`` (e.g. ``"layer1.0.relu (call 2)"``)."""
        for node in self.nodes:
            if node.label == label:
                return node
        raise KeyError(f"no node labelled {label!r}; labels: {', '.join(n.label for n in self.nodes)}")

    def readers(self, name: str) -> list[Node]:
        """The nodes that read node ``name``'s output."""
        return [node for node in self.nodes if name in node.inputs]

    def calls_of(self, path: str) -> list[Node]:
        """The nodes that call the layer at ``path`` (e.g. ``"layer1.0.relu"``), in order."""
        return [node for node in self.nodes if node.op == "module" and node.target == path]

    def inside(self, path: str) -> list[Node]:
        """The nodes that run inside the module at ``path`` (the module's own call included)."""
        return [node for node in self.nodes if path in node.scope or (node.op == "module" and node.target == path)]


# --------------------------------------------------------------------------- tracing


class Tracer(torch.fx.Tracer):
    """torch.fx's tracer with the book's idea of a layer (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.record_stack_traces = True  # each node remembers the line of forward it came from

    def is_leaf_module(self, module: nn.Module, qualified_name: str) -> bool:
        if super().is_leaf_module(module, qualified_name):
            return True
        no_children = next(module.children(), None) is None
        return no_children or hasattr(module, "kernel_size")


def _function_name(fx_node: torch.fx.Node) -> str:
    target = fx_node.target
    if isinstance(target, str):          # a tensor method: x.flatten(1), x.view(...)
        return target
    return getattr(target, "__name__", str(target))   # operator.add -> "add", torch.cat -> "cat"


def _first_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for item in value:
            found = _first_tensor(item)
            if found is not None:
                return found
    if isinstance(value, dict):
        return _first_tensor(list(value.values()))
    return None


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [tensor for item in value for tensor in _tensors(item)]
    if isinstance(value, dict):
        return _tensors(list(value.values()))
    return []


def _new_bytes(value: Any, inputs: list[Any]) -> int:
    """Bytes of the tensors in ``value`` that do not share memory with an input tensor.

    An in-place ReLU, a view (``flatten``, ``view``), a tuple that packs tensors made
    earlier or ``getitem`` on it allocate nothing new, so they count 0.
    """
    seen = {tensor.untyped_storage().data_ptr() for item in inputs for tensor in _tensors(item)}
    total = 0
    for tensor in _tensors(value):
        pointer = tensor.untyped_storage().data_ptr()
        if pointer not in seen:
            seen.add(pointer)
            total += tensor.numel() * tensor.element_size()
    return total


class _Recorder(torch.fx.Interpreter):
    """Runs the traced graph node by node, recording each node's output and multiply-adds."""

    def __init__(self, module: torch.fx.GraphModule) -> None:
        super().__init__(module)
        self.values: dict[str, Any] = {}
        self.macs: dict[str, int] = {}

    def run_node(self, fx_node: torch.fx.Node) -> Any:
        with FlopCounterMode(display=False) as counter:
            value = super().run_node(fx_node)
        self.values[fx_node.name] = value
        self.macs[fx_node.name] = counter.get_total_flops() // 2
        return value


def _scope(fx_node: torch.fx.Node) -> tuple[str, ...]:
    """The paths of the modules a node runs inside, outermost first (its own layer excluded)."""
    stack = fx_node.meta.get("nn_module_stack") or {}
    paths = [path for path, _ in stack.values()]
    if fx_node.op == "call_module" and paths and paths[-1] == fx_node.target:
        paths = paths[:-1]
    return tuple(dict.fromkeys(p for p in paths if p))


def trace(model: nn.Module, input_size: tuple[int, ...], *, train: bool = False) -> ModelGraph:
    """Trace ``model`` and run it once on ``torch.zeros(input_size)``, recording every node.

    The model is left as it was: its train/eval mode, its buffers (batch-norm statistics
    would change in training mode) and the random number generator's state.

    Args:
        model: any ``nn.Module`` that ``torch.fx`` can trace.
        input_size: the input's shape with the batch first, e.g. ``(1, 3, 224, 224)``.
        train: trace in training mode, where some networks compute more (GoogLeNet's
            auxiliary classifiers); the default is eval mode, the network as used for prediction.

    Raises:
        ValueError: if ``input_size`` is not a shape, or the model cannot be traced.
    """
    input_size = check_input_size(input_size)
    was_training = model.training
    saved_buffers = {name: buffer.clone() for name, buffer in model.named_buffers()}
    model.train(train)
    try:
        try:
            fx_graph = Tracer().trace(model)
        except Exception as error:  # torch.fx raises many kinds; say what to do
            raise ValueError(
                f"{type(model).__name__} cannot be traced by torch.fx ({type(error).__name__}: {error}). "
                "Wrap input checks with torch.fx.wrap and avoid Python control flow on tensor values in forward."
            ) from error
        module = torch.fx.GraphModule(model, fx_graph)
        recorder = _Recorder(module)
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            recorder.run(torch.zeros(input_size, device=model_device(model)))
    finally:
        model.train(was_training)
        with torch.no_grad():
            for name, buffer in model.named_buffers():
                if name in saved_buffers:
                    buffer.copy_(saved_buffers[name])
    return _build(model, fx_graph, recorder, input_size, train)


def _build(model: nn.Module, fx_graph: torch.fx.Graph, recorder: _Recorder,
           input_size: tuple[int, ...], train: bool) -> ModelGraph:
    """Turn the fx nodes into :class:`Node` s, keeping only those that produce tensors."""
    modules = dict(model.named_modules())
    kept: set[str] = set()
    attributes: dict[str, nn.Parameter | None] = {}   # get_attr node -> the parameter it reads
    counted: set[int] = set()                  # ids of parameters already counted (shared ones once)
    calls: dict[str, int] = {}
    uses: dict[tuple[str, str], int] = {}      # (function, module it runs in) -> calls so far
    nodes: list[Node] = []

    def count(parameters: Iterator[torch.Tensor]) -> int:
        total = 0
        for parameter in parameters:
            if parameter.requires_grad and id(parameter) not in counted:
                counted.add(id(parameter))
                total += parameter.numel()
        return total

    def label(op: str, target: str, scope: tuple[str, ...]) -> str:
        if op == "module":
            call = calls[target]
            return target if call == 1 else f"{target} (call {call})"
        where = scope[-1] if scope else ""
        uses[target, where] = uses.get((target, where), 0) + 1
        parts = [where] if where else []
        if uses[target, where] > 1:
            parts.append(f"call {uses[target, where]}")
        return f"{target} ({', '.join(parts)})" if parts else target

    def names_in(value: Any) -> tuple[str, ...]:
        found: list[str] = []
        torch.fx.node.map_arg(value, lambda n: found.append(n.name) if n.name in kept else None)
        return tuple(dict.fromkeys(found))

    def plain(value: Any) -> Any:
        return torch.fx.node.map_arg(value, lambda n: n.name)

    for fx_node in fx_graph.nodes:
        value = recorder.values.get(fx_node.name)
        if fx_node.op == "get_attr":
            attributes[fx_node.name] = value if isinstance(value, nn.Parameter) else None
            continue
        if fx_node.op == "placeholder":
            kept.add(fx_node.name)
            nodes.append(Node(fx_node.name, "input", "input", (), tuple(input_size),
                              output_bytes=_new_bytes(value, []), label="(input)"))
            continue
        if fx_node.op == "output":
            nodes.append(Node(fx_node.name, "output", "output", names_in(fx_node.args), (), label="(output)"))
            continue
        tensor = _first_tensor(value)
        if tensor is None:                      # an input check, x.size(0), ...: not part of the picture
            continue
        kept.add(fx_node.name)
        # parameters read directly by a function (x * self.scale), then the layer's own
        params = count(attributes[used.name] for used in fx_node.all_input_nodes
                       if used.op == "get_attr" and attributes.get(used.name) is not None)
        if fx_node.op == "call_module":
            op, target = "module", str(fx_node.target)
            calls[target] = calls.get(target, 0) + 1
            params += count(modules[target].parameters())
            layer = modules[target]
        else:
            op, target, layer = "function", _function_name(fx_node), None
        scope = _scope(fx_node)
        nodes.append(Node(
            name=fx_node.name, op=op, target=target, inputs=names_in((fx_node.args, fx_node.kwargs)),
            shape=tuple(tensor.shape), scope=scope,
            call=calls.get(target, 1) if op == "module" else 1,
            macs=recorder.macs.get(fx_node.name, 0), params=params,
            output_bytes=_new_bytes(value, [recorder.values.get(n.name) for n in fx_node.all_input_nodes]),
            module=layer, args=plain(fx_node.args), kwargs=plain(dict(fx_node.kwargs)),
            label=label(op, target, scope),
        ))
    return ModelGraph(nodes, tuple(input_size), train, type(model).__name__, _not_run(model, counted))


def _not_run(model: nn.Module, counted: set[int]) -> dict[str, int]:
    """The outermost modules none of whose trainable parameters were counted: path -> parameters."""
    found: dict[str, int] = {}
    for path, module in model.named_modules():
        if not path or any(path.startswith(done + ".") for done in found):
            continue
        parameters = [p for p in module.parameters() if p.requires_grad]
        if parameters and not any(id(p) in counted for p in parameters):
            found[path] = sum(p.numel() for p in parameters)
    return found
