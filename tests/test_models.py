"""Sweeps over the model registry, and LeNet-5's details checked against the paper.

The sweeps run over every registered model and over a small test-only network built from
stages and blocks, with batch norm, dropout and adaptive pooling (``_TinyStages`` below,
registered only while a sweep runs): it is what makes the sweeps' own checks able to fail
(an eval-mode check means nothing on a network without batch norm or dropout).

The sweeps stay cheap with ImageNet-sized models (VGG-19: 144 M parameters, 20 G multiply-adds
at 224x224) in three ways. Each model is built once for the checks of values (``named_model``, a
module-scoped fixture: pytest runs all of one model's tests before building the next). Those
checks run at the smallest input a model takes (``input_spec.min_size``; a fixed-size model at
its size). The checks that need only shapes, counts or attributes (the shape comments at the
paper's size, parameter counts, input contracts) build the model on the "meta" device, where
tensors have shapes and no values: no weights are made and nothing is computed.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import inspect
import math
import os
import re
import textwrap

import pytest
import torch
import torch.fx
import torch.nn.functional as F
import torchvision
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from cnnzoo import models
from cnnzoo.analysis import count_parameters
from cnnzoo.models import InputSpec, lenet
from cnnzoo.models._checks import check_images

# The test-only network below calls check_images from this module: fx must wrap it here too.
torch.fx.wrap("check_images")

ALL = models.available()


pytestmark = pytest.mark.usefixtures("one_thread")

# Trainable parameters as published, with where they are printed.
PAPER_PARAMETERS = {
    "lenet5_1998": lenet.PAPER_TOTAL_PARAMETERS,  # LeCun et al. 1998, Sec. II.B
}
# torchvision's twins: the count torchvision publishes for them (its weights' meta["num_params"],
# torchvision 0.29; test_torchvision_counts_are_torchvision_s checks the numbers typed here).
# The papers print rounded counts only (VGG: Table 2, in millions), checked in each model's tests.
TORCHVISION_PARAMETERS = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336,
    "vgg11_bn": 132_868_840,
    "vgg13": 133_047_848,
    "vgg13_bn": 133_053_736,
    "vgg16": 138_357_544,
    "vgg16_bn": 138_365_992,
    "vgg19": 143_667_240,
    "vgg19_bn": 143_678_248,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,  # the resnet50/101/152 twins need stride_on="3x3" (same count either way)
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "wide_resnet50_2": 68_883_240,
    "wide_resnet101_2": 126_886_696,
    "resnext50_32x4d": 25_028_904,
    "resnext101_32x8d": 88_791_336,
    "resnext101_64x4d": 83_455_272,
    "densenet121": 7_978_856,
    "densenet161": 28_681_000,
    "densenet169": 14_149_480,
    "densenet201": 20_013_928,
    "squeezenet1_0": 1_248_424,
    "squeezenet1_1": 1_235_496,
    "googlenet": 13_004_888,  # with its auxiliary heads, as torchvision.models.googlenet(weights=None); see TORCHVISION_AUX_PARAMETERS
}
# Twins whose published weights' meta["num_params"] leaves out their auxiliary heads (torchvision's
# googlenet drops them after loading): the parameters of those heads, for test_torchvision_counts_are_torchvision_s.
TORCHVISION_AUX_PARAMETERS = {
    "googlenet": 6_379_984,  # aux1 and aux2: 13,004,888 - 6,624,904
}
# Variants that are not in a paper or torchvision, with the count their docstring promises.
DOCUMENTED_PARAMETERS = {
    "lenet5": 61_706,
    "alexnet_2012": 60_965_224,  # alexnet.py; Krizhevsky et al. 2012 print "60 million" (abstract, Sec. 4), checked in test_alexnet.py
    "zfnet": 62_357_608,  # alexnet.py, Zeiler and Fergus 2014, Figure 3; the paper prints no count
    "vgg11_lrn": 132_863_336,  # vgg.py: column A-LRN, A's count (LRN has no parameters); Table 2: 133 M
    "vgg16_c": 133_638_952,  # vgg.py: column C; Table 2: 134 M
    "googlenet_2014": 13_378_280,  # googlenet.py, with both auxiliary heads; Table 1's params column checked row by row in test_googlenet.py
    "nin": 966_986,  # nin.py, CIFAR-10 with 10 classes; Lin et al. 2014 print no count
    "plain18": 11_515_688,  # resnet.py: resnet18 without its three projection shortcuts; He et al. 2016 print no count
    "plain34": 21_623_848,  # resnet.py: resnet34 likewise
    # The CIFAR-10 family (option A shortcuts have no parameters, so the plain twins count the same).
    # He et al. 2016, Table 6 prints 0.27 M, 0.46 M, 0.66 M, 0.85 M, 1.7 M, 19.4 M: checked in test_resnet.py.
    "resnet20_cifar": 269_722,
    "resnet32_cifar": 464_154,
    "resnet44_cifar": 658_586,
    "resnet56_cifar": 853_018,
    "resnet110_cifar": 1_727_962,
    "resnet1202_cifar": 19_421_274,
    "plain20_cifar": 269_722,
    "plain32_cifar": 464_154,
    "plain44_cifar": 658_586,
    "plain56_cifar": 853_018,
    # Zagoruyko and Komodakis 2016 print 11.0 M, 36.5 M, 8.9 M (checked in test_wide_resnet.py).
    "wrn16_8": 10_961_370,
    "wrn28_10": 36_479_194,
    "wrn40_4": 8_949_210,
    # Huang et al. 2017, Table 2 prints 1.0 M, 0.8 M, 15.3 M and 25.6 M (checked in test_densenet.py).
    "densenet_40_12": 1_019_722,
    "densenet_bc_100_12": 769_162,
    "densenet_bc_250_24": 15_324_406,
    "densenet_bc_190_40": 25_624_430,
    # Larsson et al. 2017, Table 1 prints 38.6M for the 20-layer net: not reproduced, see fractalnet.py and test_fractalnet.py.
    "fractalnet": 33_724_618,
    # Xie et al. 2017, Table 7 prints 34.4M and 68.1M (CIFAR-10, 10 classes): truncated, checked in test_resnext.py.
    "resnext29_8x64d": 34_426_698,
    "resnext29_16x64d": 68_155_210,
}
CHECKED_PARAMETERS = {**PAPER_PARAMETERS, **TORCHVISION_PARAMETERS, **DOCUMENTED_PARAMETERS}


# --------------------------------------------------------------------------- a test-only network


class _TinyBlock(nn.Module):
    """conv-BN-ReLU added to its input: a residual block in miniature."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + F.relu(self.bn(self.conv(x)))


class _TinyStages(nn.Module):
    """Stages of blocks, batch norm, dropout and adaptive pooling: any size >= 8 works."""

    def __init__(self, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.input_spec = InputSpec(in_channels, (16, 16), fixed=False, min_size=8)
        self.input_size = self.input_spec.shape
        self.stem = nn.Conv2d(in_channels, 4, 3, stride=2, padding=1)
        self.stage1 = nn.Sequential(_TinyBlock(4), _TinyBlock(4))
        self.stage2 = nn.Sequential(nn.Conv2d(4, 8, 3, stride=2, padding=1), _TinyBlock(8))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.input_spec)
        x = self.stem(x)                     # (N, 4, 8, 8)
        x = self.stage1(x)                   # (N, 4, 8, 8)
        x = self.stage2(x)                   # (N, 8, 4, 4)
        x = torch.flatten(self.pool(x), 1)   # (N, 8)
        x = self.dropout(x)                  # (N, 8)
        return self.fc(x)                    # (N, num_classes)


TEST_NAME = "_test_tiny_stages"
SWEEP = [*ALL, TEST_NAME]
# Models whose tracing costs seconds (1,202 layers) and whose class, forward and shapes a cheaper
# registered model shares: the tracing checks (fx, shape comments) run on that one instead.
TRACED_BY = {"resnet1202_cifar": "resnet110_cifar"}
TRACE_SWEEP = [name for name in SWEEP if name not in TRACED_BY]
CLASSES = 7  # not any model's default, so that a sweep sees num_classes reach the output


@contextlib.contextmanager
def _test_model_registered():
    """Register the test-only network while the block runs, then remove it."""
    models.register(TEST_NAME)(_TinyStages)
    try:
        yield
    finally:
        del models._REGISTRY[TEST_NAME]


@pytest.fixture
def with_test_model():
    """Register the test-only network for one test, then remove it."""
    with _test_model_registered():
        yield


def _build(name: str, **kwargs) -> nn.Module:
    """``models.build(name, **kwargs)`` after ``torch.manual_seed(0)``, the test-only network included."""
    with _test_model_registered() if name == TEST_NAME else contextlib.nullcontext():
        torch.manual_seed(0)
        return models.build(name, **kwargs)


def _build_without_weights(name: str, **kwargs) -> nn.Module:
    """The model on PyTorch's "meta" device: shapes without values, at no cost in time or memory.

    For the checks that need only shapes, parameter counts or attributes: a VGG's weights
    (half a gigabyte, a second to initialise) are never made. Run it, and make its inputs,
    inside ``torch.device("meta")`` too.
    """
    with torch.device("meta"):
        return _build(name, **kwargs)


@pytest.fixture(scope="module", params=SWEEP)
def named_model(request) -> tuple[str, nn.Module]:
    """(name, model) for each model of the sweep, built once per module with ``num_classes=CLASSES``, in eval mode.

    A module-scoped, parametrised fixture: pytest runs every test of one model before it builds the
    next, so each model is built once and only one is in memory at a time. Tests must not change it.
    """
    model = _build(request.param, num_classes=CLASSES).eval()
    yield request.param, model
    del model
    gc.collect()  # traced graphs hold the model in reference cycles: free its weights before the next


def _small_input_size(model: nn.Module) -> tuple[int, int, int]:
    """(C, H, W): the smallest images the model takes (its own size if that is fixed).

    The value checks run there: VGG at 32x32 costs 1/49 of 224x224 in its convolutions.
    """
    spec = model.input_spec
    if spec.fixed:
        return spec.shape
    return (spec.channels, spec.min_size, spec.min_size)


# --------------------------------------------------------------------------- the registry


def test_registry_lists_every_model():
    assert {"lenet5", "lenet5_1998"} <= set(ALL)
    assert ALL == sorted(ALL)
    assert set(CHECKED_PARAMETERS) == set(ALL), "every model needs a checked count"
    dicts = [PAPER_PARAMETERS, TORCHVISION_PARAMETERS, DOCUMENTED_PARAMETERS]
    assert sum(map(len, dicts)) == len(CHECKED_PARAMETERS), "a model has two counts"


@pytest.mark.usefixtures("with_test_model")
def test_unknown_name_suggests_only_close_names():
    with pytest.raises(ValueError) as error:
        models.build("lenet")
    message = str(error.value)
    suggestion = re.search(r"Did you mean (.*)\?", message)
    assert suggestion is not None, message
    assert "'lenet5'" in suggestion.group(1)
    assert TEST_NAME not in message  # an unrelated name is not listed
    assert "models.available()" in message
    with pytest.raises(ValueError) as error:
        models.build("zzz")
    assert "Did you mean" not in str(error.value) and TEST_NAME not in str(error.value)
    with pytest.raises(ValueError, match="no model named None"):
        models.build(None)


@pytest.mark.parametrize("name", SWEEP)
def test_every_model_declares_its_input_contract(name):
    model = _build_without_weights(name, in_channels=3)
    spec = model.input_spec
    assert isinstance(spec, InputSpec)
    assert spec.name == name  # the registry names it; forward does not spell it out
    assert spec.channels == 3 and model.input_size == spec.shape == (3, *spec.size)
    assert f'"{name}"' not in inspect.getsource(type(model).forward)


def test_eval_output_shape_and_determinism(named_model):
    """In eval mode: the right shape, finite, the same twice, and each example independent of the batch.

    Dropout left on makes two passes differ; batch norm in training mode makes an example's
    output depend on the rest of its batch. At the smallest input the model takes.
    """
    name, model = named_model
    torch.manual_seed(0)
    x = torch.randn(4, *_small_input_size(model))
    with torch.no_grad():
        y = model(x)
        again = model(x)
        alone = torch.cat([model(x[i : i + 1]) for i in range(len(x))])
    assert y.shape == (4, CLASSES)
    assert torch.isfinite(y).all()
    assert torch.equal(y, again), "two eval passes differ: is dropout on?"
    assert torch.allclose(y, alone, atol=1e-5), "an example's output depends on its batch: batch norm in training mode?"


@pytest.mark.parametrize("name", ALL)
def test_parameter_count(name):
    assert count_parameters(_build_without_weights(name)) == CHECKED_PARAMETERS[name]


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMETERS))
def test_torchvision_counts_are_torchvision_s(name):
    """The counts typed above are the ones torchvision publishes with its weights (no download),
    plus the auxiliary heads its published count leaves out; and its model built without weights has them."""
    published = torchvision.models.get_model_weights(name).DEFAULT.meta["num_params"]
    assert published + TORCHVISION_AUX_PARAMETERS.get(name, 0) == TORCHVISION_PARAMETERS[name]
    if name in TORCHVISION_AUX_PARAMETERS:
        with torch.device("meta"):
            theirs = torchvision.models.get_model(name, weights=None, init_weights=False)
        assert count_parameters(theirs) == TORCHVISION_PARAMETERS[name]


def _bad_sizes(spec: InputSpec) -> list[tuple[int, int]]:
    """Sizes ``spec`` refuses: any other size if it is fixed, else just below the minimum."""
    height, width = spec.size
    if spec.fixed:
        return [(height - 1, width), (height, width + 1), (height // 2, width // 2)]
    return [(spec.min_size - 1, spec.min_size - 1), (spec.min_size - 1, width)]


def test_bad_input_raises_clear_value_error(named_model):
    name, model = named_model
    spec = model.input_spec
    channels, height, width = model.input_size
    with pytest.raises(ValueError, match=rf"^{name} was built for {channels} input channel.*got {channels + 2}"):
        model(torch.zeros(1, channels + 2, height, width))
    for bad_height, bad_width in _bad_sizes(spec):
        expected = rf"{height}x{width}" if spec.fixed else rf"at least {spec.min_size}x{spec.min_size}"
        with pytest.raises(ValueError, match=rf"^{name} .*{expected}.*got {bad_height}x{bad_width}"):
            model(torch.zeros(1, channels, bad_height, bad_width))
    with pytest.raises(ValueError, match=r"4-D batch.*unsqueeze"):
        model(torch.zeros(channels, height, width))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model([[0.0]])


def test_sizes_the_contract_allows_work(named_model):
    """The smallest size computes; a size wider than the model's own gives the right shape.

    The wider one runs on the "meta" device (shapes only): what it checks is that nothing
    after the adaptive pooling depends on the input size.
    """
    name, model = named_model
    spec = model.input_spec
    with torch.no_grad():
        assert model(torch.zeros(2, *_small_input_size(model))).shape == (2, CLASSES)
        if not spec.fixed:
            with torch.device("meta"):
                wide = _build_without_weights(name, num_classes=CLASSES).eval()
                assert wide(torch.zeros(2, spec.channels, spec.min_size, spec.size[1] + 3)).shape == (2, CLASSES)


@pytest.mark.parametrize("name", ALL)
def test_bad_constructor_arguments(name):
    with pytest.raises(ValueError, match="num_classes"):
        models.build(name, num_classes=0)
    with pytest.raises(ValueError, match="in_channels"):
        models.build(name, in_channels=-1)


def test_input_spec_rejects_contradictions():
    for bad in [
        dict(channels=0, size=(32, 32)),
        dict(channels=1, size=(32,)),
        dict(channels=1, size=[32, 32]),
        dict(channels=1, size=(32, 32), min_size=8),                  # fixed takes no minimum
        dict(channels=1, size=(32, 32), fixed=False),                 # no minimum given
        dict(channels=1, size=(32, 32), fixed=False, min_size=33),    # minimum above its own size
    ]:
        with pytest.raises(ValueError):
            InputSpec(**bad)


def test_a_model_built_without_the_registry_still_explains():
    with pytest.raises(ValueError, match=r"^this model expects 32x32 images"):
        lenet.LeNet5()(torch.zeros(1, 1, 28, 28))
    with pytest.raises(ValueError, match=r"^lenet5 expects 32x32"):  # the registered builder names it
        lenet.lenet5()(torch.zeros(1, 1, 28, 28))


# --------------------------------------------------------------------------- torch.fx


class _StackTracer(torch.fx.Tracer):
    """An fx tracer that records, for each node, the stack of source lines that made it."""

    record_stack_traces = True


def test_every_model_traces_with_fx(named_model):
    name, model = named_model
    if name in TRACED_BY:
        pytest.skip(f"traced as {TRACED_BY[name]} (TRACED_BY)")
    torch.manual_seed(0)
    x = torch.randn(2, *_small_input_size(model))
    traced = [torch.fx.symbolic_trace(model), torch.fx.GraphModule(model, _StackTracer().trace(model))]
    channels, height, width = x.shape[1:]
    for graph_module in traced:
        with torch.no_grad():
            assert torch.equal(graph_module(x), model(x))
        called = [node.target for node in graph_module.graph.nodes if node.op == "call_function"]
        assert check_images in called  # the check is one node of the graph, and still runs:
        with pytest.raises(ValueError, match="input channel"):
            graph_module(torch.zeros(2, channels + 1, height, width))


_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in ')
_SHAPE_COMMENT = re.compile(r"#\s*\((?P<shape>[^)]*)\)")


def _forward_statements(model: nn.Module) -> list[dict]:
    """The simple statements of ``type(model).forward``: their lines, shape comment, called children."""
    lines, first = inspect.getsourcelines(type(model).forward)
    tree = ast.parse(textwrap.dedent("".join(lines)))
    children = dict(model.named_children())
    statements = []
    for node in ast.walk(tree.body[0]):
        if not isinstance(node, ast.stmt) or isinstance(node, (ast.FunctionDef, ast.If, ast.For, ast.While, ast.With, ast.Try)):
            continue
        start, end = node.lineno + first - 1, node.end_lineno + first - 1
        comments = [m.group("shape") for line in lines[start - first : end - first + 1] if (m := _SHAPE_COMMENT.search(line))]
        calls = {
            call.func.attr
            for call in ast.walk(node)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name) and call.func.value.id == "self" and call.func.attr in children
        }
        statements.append({"lines": range(start, end + 1), "comment": comments[-1] if comments else None, "calls": calls})
    return statements


def _forward_line(node: torch.fx.Node, forward_file: str, forward_lines: range) -> int | None:
    """The line of the model's own ``forward`` that made ``node`` (None if it has no such frame)."""
    for frame in _FRAME.finditer(node.stack_trace or ""):
        line = int(frame.group("line"))
        if os.path.realpath(frame.group("file")) == forward_file and line in forward_lines:
            return line
    return None


def _expected_shape(comment: str, symbols: dict[str, int]) -> tuple[int, ...]:
    """The sizes a shape comment states: integers, symbols, and ``*``/``/`` between them ("num_features / 4")."""
    sizes = []
    for part in comment.split(","):
        part = part.strip()
        if not re.fullmatch(r"\w+(\s*[*/]\s*\w+)*", part):
            raise AssertionError(f"cannot read {part!r} in shape comment ({comment})")
        tokens = re.split(r"\s*([*/])\s*", part)
        values = []
        for token in tokens[::2]:
            if token not in symbols and not token.isdigit():
                raise AssertionError(f"unknown symbol {token!r} in shape comment ({comment})")
            values.append(symbols[token] if token in symbols else int(token))
        size = values[0]
        for operator, value in zip(tokens[1::2], values[1:]):
            if operator == "/":
                assert size % value == 0, f"{part!r} is not a whole number in shape comment ({comment})"
                size //= value
            else:
                size *= value
        sizes.append(size)
    return tuple(sizes)


def test_traced_by_stands_for_its_model():
    """A model left out of the tracing checks has the class, forward and shapes of the one checked instead."""
    for name, stand_in in TRACED_BY.items():
        ours, theirs = _build_without_weights(name), _build_without_weights(stand_in)
        assert type(ours) is type(theirs) and stand_in in TRACE_SWEEP
        assert vars(ours).keys() == vars(theirs).keys()
        differ = ("depth", "blocks_per_stage", "_modules", "input_spec")  # the blocks' count, and the name in the spec
        assert {k: v for k, v in vars(ours).items() if k not in differ} == {k: v for k, v in vars(theirs).items() if k not in differ}
        assert ours.input_spec.shape == theirs.input_spec.shape and ours.input_spec.min_size == theirs.input_spec.min_size


@pytest.mark.parametrize("name", TRACE_SWEEP)
def test_stage_shapes_equal_the_shape_comments(name):
    """Each line of forward that calls a part of the model carries a shape comment, and it is right.

    The model is traced with torch.fx, recording each node's stack; each node is mapped to the
    line of ``forward`` it came from, and the comment is compared with the shape of the last
    node that line produced. Stages, blocks, ``torch.flatten`` and additions all count.
    The comments state the paper's shapes, so this runs at ``model.input_size``; on the "meta"
    device (shapes without values), which makes VGG-19 at 224x224 free.
    """
    batch, classes = 3, 7
    model = _build_without_weights(name, num_classes=classes).eval()
    forward_file = os.path.realpath(inspect.getsourcefile(type(model).forward))
    source, first = inspect.getsourcelines(type(model).forward)
    forward_lines = range(first, first + len(source))
    last_shape: dict[int, tuple[int, ...]] = {}
    # Eval mode first; then training mode, for the lines that run only there (GoogLeNet's
    # auxiliary heads). A line that runs in both keeps its eval-mode shape.
    for training in (False, True):
        model.train(training)
        graph_module = torch.fx.GraphModule(model, _StackTracer().trace(model))
        with torch.device("meta"):
            ShapeProp(graph_module).propagate(torch.randn(batch, *model.input_size))
        for node in graph_module.graph.nodes:
            line = _forward_line(node, forward_file, forward_lines)
            if line is not None and "tensor_meta" in node.meta and (training is False or line not in eval_lines):
                last_shape[line] = tuple(node.meta["tensor_meta"].shape)
        if not training:
            eval_lines = set(last_shape)
    model.eval()

    statements = _forward_statements(model)
    stages = [s for s in statements if s["calls"]]
    assert stages, "forward calls none of the model's parts"
    for statement in statements:
        if statement["calls"] and statement["comment"] is None:
            raise AssertionError(f"{name}: line {statement['lines'][0]} calls {sorted(statement['calls'])} without a shape comment")
        if statement["comment"] is None:
            continue
        shapes = [last_shape[line] for line in statement["lines"] if line in last_shape]
        assert shapes, f"{name}: line {statement['lines'][0]} has a shape comment but computes no tensor"
        # A comment may name the model's own integer attributes too (ResNet's num_features).
        symbols = {key: value for key, value in vars(model).items() if isinstance(value, int) and not isinstance(value, bool)}
        expected = _expected_shape(statement["comment"], {**symbols, "N": batch, "num_classes": classes})
        assert shapes[-1] == expected, f"{name}, line {statement['lines'][0]}: comment says ({statement['comment']}), got {shapes[-1]}"


# --------------------------------------------------------------------------- LeNet-5 (1998): the paper's numbers


def test_paper_numbers_add_up_to_the_paper_totals():
    assert sum(lenet.PAPER_PARAMETERS.values()) == lenet.PAPER_TOTAL_PARAMETERS == 60_000
    assert sum(lenet.PAPER_CONNECTIONS.values()) == lenet.PAPER_TOTAL_CONNECTIONS == 340_908


def test_lenet1998_layer_parameters_equal_the_paper():
    model = models.build("lenet5_1998")
    assert {name: count_parameters(getattr(model, name)) for name in lenet.PAPER_PARAMETERS} == lenet.PAPER_PARAMETERS
    assert count_parameters(model.output) == 0  # the RBF centres are fixed, not trained


def test_lenet1998_connections_equal_the_paper():
    """Connections as the paper counts them: every input of every unit, its bias included."""
    model = models.build("lenet5_1998")
    shapes = {}

    def record(name):
        def hook(module, inputs, output):
            shapes[name] = output.shape[1:]
        return hook

    for name in lenet.PAPER_CONNECTIONS:
        getattr(model, name).register_forward_hook(record(name))
    model(torch.zeros(1, 1, 32, 32))

    def units(name):  # output units of a layer, for one image
        return math.prod(shapes[name])

    c3_units_per_map = math.prod(shapes["c3"][1:])
    counted = {
        "c1": units("c1") * (model.c1.weight[0].numel() + 1),
        "s2": units("s2") * (2 * 2 + 1),
        "c3": sum(c3_units_per_map * (conv.weight.numel() + 1) for conv in model.c3.maps),
        "s4": units("s4") * (2 * 2 + 1),
        "c5": units("c5") * (model.c5.weight[0].numel() + 1),
        "f6": units("f6") * (model.f6.in_features + 1),
        "output": units("output") * model.output.centres.shape[1],  # no bias
    }
    assert counted == lenet.PAPER_CONNECTIONS


# LeCun et al. 1998, Table I, as printed: row i is S2 map i, column k is C3 map k; X = connected.
TABLE_I = """
   0 1 2 3 4 5 6 7 8 9 101112131415
0  X       X X X     X X X X   X X
1  X X       X X X     X X X X   X
2  X X X       X X X     X   X X X
3    X X X     X X X X     X   X X
4      X X X     X X X X   X X   X
5        X X X     X X X X   X X X
"""


def table_one() -> torch.Tensor:
    """Table I as a (6, 16) bool tensor: [i, k] is True when S2 map i feeds C3 map k."""
    rows = TABLE_I.strip("\n").splitlines()[1:]
    assert [row[0] for row in rows] == list("012345")
    return torch.tensor([[row.ljust(3 + 2 * 16)[3 + 2 * k] == "X" for k in range(16)] for row in rows])


def test_c3_connection_table_is_table_one():
    mask = table_one()
    assert mask.shape == (6, 16) and mask.sum() == 60  # 6x3 + 9x4 + 6
    assert tuple(tuple(mask[:, k].nonzero().flatten().tolist()) for k in range(16)) == lenet.C3_CONNECTIONS


def test_partial_conv_output_map_reads_only_its_inputs():
    torch.manual_seed(0)
    c3 = lenet.PartialConv2d(lenet.C3_CONNECTIONS, kernel_size=5)
    x = torch.randn(1, 6, 14, 14)
    changed = x.clone()
    changed[:, 3] += 1.0  # S2 map 3 feeds C3 maps whose table row lists 3
    difference = (c3(changed) - c3(x)).abs().amax(dim=(0, 2, 3))
    for k, inputs in enumerate(lenet.C3_CONNECTIONS):
        assert (difference[k] > 0) == (3 in inputs), k


def test_scaled_tanh_maps_one_to_one():
    assert lenet.scaled_tanh(torch.tensor(1.0)).item() == pytest.approx(1.0, abs=1e-3)
    assert lenet.scaled_tanh(torch.tensor(1e6)).item() == pytest.approx(1.7159)


def test_subsampling_is_coefficient_times_block_sum_plus_bias():
    layer = lenet.Subsampling(1)
    with torch.no_grad():
        layer.weight.fill_(0.5)
        layer.bias.fill_(-1.0)
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    expected = torch.tensor([[0 + 1 + 4 + 5, 2 + 3 + 6 + 7], [8 + 9 + 12 + 13, 10 + 11 + 14 + 15]]) * 0.5 - 1
    assert torch.equal(layer(x)[0, 0], expected)


def test_rbf_centres_are_fixed_plus_minus_one_bitmaps():
    model = models.build("lenet5_1998")
    centres = model.output.centres
    assert centres.shape == (10, 84) and set(centres.unique().tolist()) == {-1.0, 1.0}
    assert all(len(rows) == 12 and all(len(r) == 7 for r in rows) for rows in lenet.DIGIT_BITMAPS.values())
    assert len({tuple(c.tolist()) for c in centres}) == 10  # ten different codes
    assert "output.centres" in dict(model.named_buffers()) and not any("centres" in n for n, _ in model.named_parameters())


def test_lenet1998_initialisation_range():
    torch.manual_seed(0)
    model = models.build("lenet5_1998")
    for layer in (model.c1, model.c5, model.f6):
        fan_in = layer.weight[0].numel()
        assert layer.weight.abs().max() <= 2.4 / fan_in
        assert layer.weight.abs().max() > 2.4 / fan_in * 0.9  # uniform over the whole range


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("pool", ["max", "avg"])
def test_modern_variants_share_the_parameter_count(activation, pool):
    assert count_parameters(models.build("lenet5", activation=activation, pool=pool)) == 61_706


def test_modern_variant_rejects_unknown_options():
    with pytest.raises(ValueError, match="activation"):
        models.build("lenet5", activation="sigmoid")
    with pytest.raises(ValueError, match="pool"):
        models.build("lenet5", pool="min")


# --------------------------------------------------------------------------- LeNet-5: an independent reference


def reference_lenet5(model: lenet.LeNet5, x: torch.Tensor, activation: str, pool: str) -> torch.Tensor:
    """The modern LeNet-5's forward pass, written again with torch.nn.functional on its weights."""
    act = {"relu": F.relu, "tanh": torch.tanh}[activation]
    subsample = {"max": F.max_pool2d, "avg": F.avg_pool2d}[pool]
    x = subsample(act(F.conv2d(x, model.c1.weight, model.c1.bias)), kernel_size=2)
    x = subsample(act(F.conv2d(x, model.c3.weight, model.c3.bias)), kernel_size=2)
    x = x.reshape(len(x), -1)
    x = act(F.linear(x, model.c5.weight, model.c5.bias))
    x = act(F.linear(x, model.f6.weight, model.f6.bias))
    return F.linear(x, model.output.weight, model.output.bias)


def reference_lenet5_1998(model: lenet.LeNet5Paper, x: torch.Tensor) -> torch.Tensor:
    """LeNet-5 (1998) written again from the paper: f(a) = 1.7159 tanh(2a/3) (Appendix A),
    subsampling as coefficient x 2x2 sum + bias, C3 as a full convolution masked by Table I,
    and the output as minus the squared distance to each RBF centre."""

    def f(a):
        return 1.7159 * torch.tanh(2 / 3 * a)

    def subsample(x, layer):
        n, c, h, w = x.shape
        block_sums = x.reshape(n, c, h // 2, 2, w // 2, 2).sum(dim=(3, 5))
        return block_sums * layer.weight[None, :, None, None] + layer.bias[None, :, None, None]

    # C3: a 16x6 bank of 5x5 kernels, noise where Table I has no connection, then the mask.
    mask = table_one().T[:, :, None, None]  # (16, 6, 1, 1)
    c3_weight = torch.randn(16, 6, 5, 5)
    c3_bias = torch.empty(16)
    for k, conv in enumerate(model.c3.maps):
        c3_weight[k, mask[k, :, 0, 0]] = conv.weight[0]
        c3_bias[k] = conv.bias[0]

    x = f(F.conv2d(x, model.c1.weight, model.c1.bias))
    x = f(subsample(x, model.s2))
    x = f(F.conv2d(x, c3_weight * mask, c3_bias))
    x = f(subsample(x, model.s4))
    x = f(F.conv2d(x, model.c5.weight, model.c5.bias)).reshape(len(x), -1)
    x = f(F.linear(x, model.f6.weight, model.f6.bias))
    return -((x[:, None, :] - model.output.centres[None]) ** 2).sum(dim=-1)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("pool", ["max", "avg"])
def test_lenet5_equals_an_independent_reference(activation, pool):
    torch.manual_seed(0)
    model = models.build("lenet5", num_classes=7, in_channels=3, activation=activation, pool=pool).eval()
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model(x), reference_lenet5(model, x, activation, pool), atol=1e-5)


@pytest.mark.parametrize("num_classes", [10, 7])
def test_lenet1998_equals_an_independent_reference(num_classes):
    torch.manual_seed(0)
    model = models.build("lenet5_1998", num_classes=num_classes).eval()
    with torch.no_grad():  # trained-looking weights, not the tiny initial ones, so every layer matters
        for parameter in model.parameters():
            parameter.copy_(torch.randn_like(parameter) * 0.3)
    x = torch.randn(4, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model(x), reference_lenet5_1998(model, x), rtol=1e-4, atol=1e-4)
