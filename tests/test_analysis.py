"""cnnzoo.analysis against cases that can be checked by hand, and torchvision's models."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnzoo import analysis, models
from cnnzoo.models import lenet

torchvision = pytest.importorskip("torchvision")

# torchvision's models, untrained, as test inputs only (never the book's models).
TORCHVISION = {
    "vgg16": lambda: torchvision.models.vgg16(weights=None),
    "resnet18": lambda: torchvision.models.resnet18(weights=None),
    "resnet50": lambda: torchvision.models.resnet50(weights=None),
    "googlenet": lambda: torchvision.models.googlenet(weights=None, init_weights=False, aux_logits=True),
}
_built: dict[str, nn.Module] = {}


pytestmark = pytest.mark.usefixtures("one_thread")


def torchvision_model(name: str) -> nn.Module:
    if name not in _built:
        torch.manual_seed(0)
        _built[name] = TORCHVISION[name]().eval()
    return _built[name]


@pytest.fixture(scope="module")
def paper_table():
    return analysis.layer_table(models.build("lenet5_1998"), (1, 1, 32, 32))


def test_layer_table_rows_follow_the_forward_pass(paper_table):
    # every node of forward: the layers, scaled_tanh after each (one node: lenet.py wraps it for
    # torch.fx), flatten, the negation
    names = [r.name for r in paper_table.layers]
    assert [n for n in names if n in dict(models.build("lenet5_1998").named_children())] == [
        "c1", "s2", "c3", "s4", "c5", "f6", "output"
    ]
    assert names[:4] == ["c1", "scaled_tanh", "s2", "scaled_tanh (call 2)"]
    assert names[-4:] == ["f6", "scaled_tanh (call 6)", "output", "neg"]
    assert paper_table["flatten"].kind == "flatten" and paper_table["flatten"].output_shape == (1, 120)
    assert paper_table["c3"].output_shape == (1, 16, 10, 10)
    assert paper_table["output"].output_shape == (1, 10)


def test_layer_parameters_equal_the_paper(paper_table):
    # LeCun et al. 1998, Sec. II.B, as models/lenet.py records it
    paper = lenet.PAPER_PARAMETERS
    assert {name: paper_table[name].params for name in paper} == paper
    assert paper_table.total_params == lenet.PAPER_TOTAL_PARAMETERS


def test_multiply_adds_by_hand(paper_table):
    # C1: 6 maps of 28x28 units, each a 5x5 window of 1 input map.
    assert paper_table["c1"].macs == 6 * 28 * 28 * 5 * 5
    # C3: 16 maps of 10x10 units; map k reads len(table[k]) input maps through 5x5 windows.
    from cnnzoo.models.lenet import C3_CONNECTIONS

    assert paper_table["c3"].macs == 10 * 10 * 5 * 5 * sum(len(c) for c in C3_CONNECTIONS)
    assert paper_table["f6"].macs == 120 * 84
    assert paper_table["s2"].macs == 0  # element-wise work is not counted


@pytest.mark.parametrize("name", models.available())
def test_total_multiply_adds_equal_flop_counter_mode(name):
    # On PyTorch's "meta" device: shapes without values, so VGG at 224x224 costs nothing.
    with torch.device("meta"):
        model = models.build(name).eval()  # training mode would run auxiliary heads; count_macs counts eval mode
    size = (2, *model.input_size)
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(size, device="meta"))
    assert analysis.count_macs(model, size) == counter.get_total_flops() // 2
    assert analysis.layer_table(model, size).total_macs == counter.get_total_flops() // 2


SMALL_INPUT = {"vgg16": (1, 3, 32, 32), "resnet18": (1, 3, 64, 64), "resnet50": (1, 3, 64, 64),
               "googlenet": (1, 3, 64, 64)}


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "googlenet", "vgg16", "lenet5", "lenet5_1998"])
def test_totals_equal_count_parameters_and_count_macs(name):
    model = torchvision_model(name) if name in TORCHVISION else models.build(name)
    size = SMALL_INPUT.get(name, (2, 1, 32, 32))
    modes = (False, True) if name == "googlenet" else (False,)
    for train in modes:
        table = analysis.layer_table(model, size, train=train)
        assert table.total_macs == analysis.count_macs(model, size, train=train)
        assert table.total_params + sum(table.not_run.values()) == analysis.count_parameters(model)
        assert table.total_activation_bytes == sum(r.activation_bytes for r in table.layers)
    assert table.total_params == analysis.count_parameters(model)  # every parameter ran (GoogLeNet: training)
    assert table.not_run == {}


def test_googlenet_auxiliary_classifiers_in_training_mode():
    model = torchvision_model("googlenet")
    evaluated = analysis.layer_table(model, (1, 3, 64, 64), depth=1)
    trained = analysis.layer_table(model, (1, 3, 64, 64), depth=1, train=True)
    assert "aux1" not in [r.name for r in evaluated.layers]
    assert [r.name for r in trained.layers].index("aux1") == [r.name for r in trained.layers].index("inception4a") + 1
    assert trained["aux2"].params == analysis.count_parameters(model.aux2)
    assert evaluated.not_run == {"aux1": analysis.count_parameters(model.aux1),
                                 "aux2": analysis.count_parameters(model.aux2)}
    assert "not run in eval mode" in str(evaluated) and "aux1, aux2" in str(evaluated)
    assert trained.total_macs - evaluated.total_macs == trained["aux1"].macs + trained["aux2"].macs > 0
    assert not model.training


def test_function_nodes_are_rows_and_in_the_totals():
    class Functional(nn.Module):  # work written in forward, with a parameter of its own
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(4, 2, 3, 3))
            self.conv = nn.Conv2d(2, 4, 3, padding=1)

        def forward(self, x):
            y = F.conv2d(x, self.weight, padding=1)
            return torch.cat([y + self.conv(x), y], 1).flatten(1)

    model = Functional()
    table = analysis.layer_table(model, (1, 2, 5, 5))
    assert [r.name for r in table.layers] == ["conv2d", "conv", "add", "cat", "flatten"]
    assert table["conv2d"].macs == 4 * 5 * 5 * 2 * 3 * 3 and table["conv2d"].params == 4 * 2 * 3 * 3
    assert table.total_macs == analysis.count_macs(model, (1, 2, 5, 5)) == 2 * 4 * 5 * 5 * 2 * 3 * 3
    assert table.total_params == analysis.count_parameters(model)
    assert table["add"].activation_bytes == 4 * 5 * 5 * 4 and table["flatten"].activation_bytes == 0
    assert table.total_activation_bytes == (4 + 4 + 4 + 8) * 5 * 5 * 4  # conv2d, conv, add, cat


def test_a_layer_called_twice_has_a_row_per_call():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)

        def forward(self, x):
            return self.conv(self.conv(x))

    model = Twice()
    table = analysis.layer_table(model, (1, 2, 4, 4))
    assert [r.name for r in table.layers] == ["conv", "conv (call 2)"]
    assert table["conv"].macs == table["conv (call 2)"].macs == 2 * 4 * 4 * 2 * 3 * 3
    assert (table["conv"].params, table["conv (call 2)"].params) == (2 * 2 * 3 * 3 + 2, 0)
    assert table.total_params == analysis.count_parameters(model)
    assert table.total_macs == analysis.count_macs(model, (1, 2, 4, 4))


def test_depth_groups_a_block_into_one_row():
    model = torchvision_model("resnet18")
    nodes = analysis.layer_table(model, (1, 3, 32, 32))
    blocks = analysis.layer_table(model, (1, 3, 32, 32), depth=2)
    assert [r.name for r in blocks.layers] == [
        "conv1", "bn1", "relu", "maxpool", "layer1.0", "layer1.1", "layer2.0", "layer2.1",
        "layer3.0", "layer3.1", "layer4.0", "layer4.1", "avgpool", "flatten", "fc"
    ]
    inside = [r for r in nodes.layers if r.name.startswith("layer2.0.") or r.name.endswith("(layer2.0)")]
    assert [r.name for r in inside][-2:] == ["add (layer2.0)", "layer2.0.relu (call 2)"]
    assert blocks["layer2.0"].kind == "BasicBlock"
    assert blocks["layer2.0"].params == sum(r.params for r in inside) == analysis.count_parameters(model.layer2[0])
    assert blocks["layer2.0"].macs == sum(r.macs for r in inside)
    assert blocks["layer2.0"].output_shape == (1, 128, 4, 4)
    for total in ("total_params", "total_macs", "total_activation_bytes"):
        assert getattr(blocks, total) == getattr(nodes, total)
    top = analysis.layer_table(model, (1, 3, 32, 32), depth=1)
    assert [r.name for r in top.layers][4:8] == ["layer1", "layer2", "layer3", "layer4"]


def test_activation_memory_is_output_bytes(paper_table):
    assert paper_table["c1"].activation_bytes == 6 * 28 * 28 * 4  # float32
    assert paper_table.total_activation_bytes == sum(r.activation_bytes for r in paper_table.layers)


def test_layer_table_depth_and_text():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), nn.Flatten(), nn.Linear(2 * 6 * 6, 3))
    shallow = analysis.layer_table(model, (1, 1, 8, 8), depth=1)
    assert [r.name for r in shallow.layers] == ["0", "1", "2"]
    deep = analysis.layer_table(model, (1, 1, 8, 8))
    assert [r.name for r in deep.layers] == ["0.0", "0.1", "1", "2"]
    text = str(shallow)
    assert "total" in text and "2×6×6" in text and "not run" not in text
    assert "<table>" in shallow._repr_html_()
    with pytest.raises(ValueError, match="depth"):
        analysis.layer_table(model, (1, 1, 8, 8), depth=0)


def test_layer_table_leaves_the_model_as_it_was():
    model = models.build("lenet5").train()
    analysis.layer_table(model, (1, 1, 32, 32))
    assert model.training
    assert not model._forward_hooks and not model.c1._forward_hooks
    before = {k: v.clone() for k, v in model.state_dict().items()}
    analysis.layer_table(model, (2, 1, 32, 32), train=True)
    assert model.training and all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("bad", [(32, 32), None, (1, 1, 32, 0), [1, "1", 32, 32], (1, 1, 32.0, 32)])
def test_bad_input_size(bad):
    with pytest.raises(ValueError, match="input_size"):
        analysis.layer_table(models.build("lenet5"), bad if bad != (32, 32) else (32,))


def test_receptive_field_of_three_3x3_convolutions_is_7x7():
    table = analysis.receptive_field([("conv1", 3, 1, 1), ("conv2", 3, 1, 1), ("conv3", 3, 1, 1)])
    assert [r.size for r in table.layers] == [3, 5, 7]
    assert all(r.jump == 1 and r.start == 0 for r in table.layers)


def test_receptive_field_with_strides_and_dilation():
    # 7x7 stride-2 pad-3 conv, then 3x3 stride-2 pad-1 max-pool (ResNet's stem): 7, then 7 + 2*2 = 11.
    table = analysis.receptive_field([("conv", 7, 2, 3), ("pool", 3, 2, 1)])
    assert [(r.size, r.jump) for r in table.layers] == [(7, 2), (11, 4)]
    assert [r.start for r in table.layers] == [0.0, 0.0]
    dilated = analysis.receptive_field([("d", 3, 1, 0, 2)])  # effective kernel 5
    assert dilated.layers[0].size == 5 and dilated.layers[0].start == 2.0


def test_receptive_field_of_lenet_covers_the_whole_image():
    table = analysis.receptive_field(models.build("lenet5_1998"))
    assert [r.name for r in table.layers] == ["c1", "s2", "c3", "s4", "c5"]
    assert [r.size for r in table.layers] == [5, 6, 14, 16, 32]
    assert table.layers[-1].jump == 4


def test_receptive_field_uses_the_model_input_size_or_asks_for_it():
    assert analysis.receptive_field(models.build("lenet5")).layers[-1].size == 16
    with pytest.raises(ValueError, match="input_size"):
        analysis.receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3)))


class TwoBranches(nn.Module):
    """A 3x3 branch and a 5x5 branch concatenated: the field is the larger, 5."""

    def __init__(self):
        super().__init__()
        self.small = nn.Conv2d(1, 2, 3, padding=1)
        self.large = nn.Conv2d(1, 2, 5, padding=2)
        self.out = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        return self.out(torch.cat([self.small(x), self.large(x)], 1))


class StridedBlock(nn.Module):
    """A residual block: 3x3/2 then 3x3 on the main path, a 1x1/2 shortcut, added."""

    def __init__(self, shortcut_stride: int = 2, shortcut_kernel: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 1, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(1, 1, 3, padding=1)
        self.shortcut = nn.Conv2d(1, 1, shortcut_kernel, stride=shortcut_stride)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.conv2(self.relu(self.conv1(x))) + self.shortcut(x))


def test_receptive_field_of_two_branches_by_hand():
    table = analysis.receptive_field(TwoBranches(), (1, 1, 8, 8))
    assert [(r.name, r.size, r.jump, r.start) for r in table.layers] == [
        ("small", 3, 1, 0.0), ("large", 5, 1, 0.0), ("out", 5, 1, 0.0)
    ]
    assert table["cat"].size == 5 and table["cat"].kernel is None


def test_receptive_field_of_a_residual_block_by_hand():
    table = analysis.receptive_field(StridedBlock(), (1, 1, 8, 8))
    # main path: 3 (jump 2), then 3 + 2*2 = 7; shortcut: one pixel, jump 2; the sum: 7.
    assert [(r.name, r.size, r.jump, r.start) for r in table.layers] == [
        ("conv1", 3, 2, 0.0), ("conv2", 7, 2, 0.0), ("shortcut", 1, 2, 0.0)
    ]
    assert (table["add"].size, table["add"].jump) == (7, 2)
    assert table["relu (call 2)"].size == 7


def test_receptive_field_is_the_union_where_centres_differ():
    class Offset(nn.Module):
        def __init__(self):
            super().__init__()
            self.even = nn.Conv2d(1, 1, 2, stride=2)               # unit 0 sees pixels 0..1
            self.odd = nn.Conv2d(1, 1, 3, stride=2, padding=1)     # unit 0 sees pixels -1..1

        def forward(self, x):
            return self.even(x) + self.odd(x)

    table = analysis.receptive_field(Offset(), (1, 1, 8, 8))
    assert (table["even"].size, table["even"].start) == (2, 0.5)
    assert (table["add"].size, table["add"].jump, table["add"].start) == (3, 2, 0.0)  # pixels -1..1


def test_receptive_field_undefined_where_strides_differ():
    with pytest.raises(ValueError, match="paths with different strides meet at 'add'"):
        analysis.receptive_field(StridedBlock(shortcut_stride=1, shortcut_kernel=5), (1, 1, 8, 8))


def test_receptive_field_of_functional_pooling_and_global_layers():
    class Pools(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)
            self.fc = nn.Linear(1, 2)

        def forward(self, x):
            x = F.max_pool2d(self.conv(x), kernel_size=3, stride=2, padding=1)
            x = F.avg_pool2d(x, 2)
            return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))

    table = analysis.receptive_field(Pools(), (1, 1, 18, 18))
    assert [(r.name, r.kernel, r.stride, r.size, r.jump) for r in table.layers] == [
        ("conv", 3, 1, 3, 1), ("max_pool2d", 3, 2, 5, 2), ("avg_pool2d", 2, 2, 7, 4),
        ("adaptive_avg_pool2d", None, None, "global", None),
    ]
    assert table["flatten"].size == "global" and "fc" not in [r.name for r in table.layers]
    assert "global" in str(table)


def test_receptive_field_rejects_non_square_kernels():
    with pytest.raises(ValueError, match="square"):
        analysis.receptive_field(nn.Sequential(nn.Conv2d(1, 1, (1, 3))), (1, 1, 8, 8))


# ----------------------------------------------------------------- measured on torchvision's models


class _SumConv(nn.Module):
    """A convolution's geometry on one channel: sum the channels, then a positive kernel."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, conv.kernel_size, conv.stride, conv.padding, conv.dilation, bias=False)
        nn.init.constant_(self.conv.weight, 1.0 / self.conv.weight.numel())

    def forward(self, x):
        return self.conv(x.sum(1, keepdim=True))


def _linear_copy(model: nn.Module) -> nn.Module:
    """The same graph with every path's gradient non-zero: positive one-channel convolutions,
    max pooling as average pooling (max pooling's gradient reaches only the argmax), ReLU,
    batch norm and dropout as identities."""
    model = copy.deepcopy(model)
    for name, child in list(model.named_children()):
        if isinstance(child, nn.Conv2d):
            setattr(model, name, _SumConv(child))
        elif isinstance(child, nn.MaxPool2d):
            assert child.dilation == 1
            setattr(model, name, nn.AvgPool2d(child.kernel_size, child.stride, child.padding, child.ceil_mode))
        elif isinstance(child, (nn.ReLU, nn.BatchNorm2d, nn.Dropout)):
            setattr(model, name, nn.Identity())
        else:
            setattr(model, name, _linear_copy(child))
    return model


FEATURES = {  # the spatial part of each network, and the label of its last spatial node
    "vgg16": (lambda m: m.features, "features.30", 224),
    "resnet18": (lambda m: nn.Sequential(*list(m.children())[:-2]), "layer4.1.relu (call 2)", 512),
    "resnet50": (lambda m: nn.Sequential(*list(m.children())[:-2]), "layer4.2.relu (call 2)", 512),
    "googlenet": (lambda m: nn.Sequential(*[c for n, c in m.named_children() if n not in
                                            ("aux1", "aux2", "avgpool", "dropout", "fc")]), "cat (inception5b)", 512),
}


@pytest.mark.parametrize("name", list(FEATURES))
def test_receptive_field_equals_the_gradient_support(name):
    model = torchvision_model(name)
    features, last, side = FEATURES[name]
    field = analysis.receptive_field(model, SMALL_INPUT[name])[last]
    linear = _linear_copy(features(model)).double()
    x = torch.ones(1, 3, side, side, dtype=torch.float64, requires_grad=True)
    out = linear(x)
    centre = out.shape[-1] // 2
    out[0, :, centre, centre].sum().backward()
    rows = x.grad[0].abs().sum(dim=(0, 2)).nonzero().flatten()
    columns = x.grad[0].abs().sum(dim=(0, 1)).nonzero().flatten()
    first, extent = rows[0].item(), rows[-1].item() - rows[0].item() + 1
    assert 0 < first and rows[-1].item() < side - 1, "the field is clipped: use a larger input"
    assert extent == field.size
    assert first == field.start + centre * field.jump - (field.size - 1) / 2
    assert columns.tolist() == rows.tolist()


def test_receptive_field_of_torchvision_models_follows_the_graph():
    table = analysis.receptive_field(torchvision_model("resnet18"), (1, 3, 64, 64))
    names = [r.name for r in table.layers]
    assert names[:2] == ["conv1", "maxpool"] and names[-1] == "avgpool"
    assert table["layer2.0.downsample.0"].size == table["layer1.1.conv2"].size  # 1x1: adds nothing
    assert table["layer2.0.downsample.0"].jump == 8
    assert table["avgpool"].size == "global"
    google = analysis.receptive_field(torchvision_model("googlenet"), (1, 3, 64, 64))
    branches = [google[f"inception3a.branch{i}.1.conv"].size for i in (2, 3)] + [google["inception3a.branch4.1.conv"].size]
    assert google["cat (inception3a)"].size == max(branches + [google["inception3a.branch1.conv"].size])
    assert not any(name.startswith("aux") for name in google.nodes)


@pytest.mark.parametrize("bad", [[("a", 0, 1)], [("a", 3)], [("a", 3, 1, -1)], []])
def test_receptive_field_rejects_bad_layers(bad):
    with pytest.raises(ValueError):
        analysis.receptive_field(bad)


def test_compare_shows_the_difference():
    table = analysis.compare({"C1": 156, "C3": 2_416}, {"C1": 156, "C3": 1_516, "S2": 12}, source="test")
    assert table.differences == {"C1": 0, "C3": 900, "S2": None}
    assert "900" in str(table) and "—" in str(table) and str(table).startswith("paper: test")
    named = analysis.compare({"a": 1}, {"a": 2}, source="both ours", names=("new", "old"))
    assert "value (new)" in str(named) and named.differences == {"a": -1}
    with pytest.raises(ValueError, match="mapping"):
        analysis.compare([1, 2], {"a": 1}, source="test")


def test_summary_has_no_units_glitch_and_one_multiply_add_total():
    model = models.build("lenet5_1998")
    result = analysis.summary(model, (1, 1, 32, 32))
    text = str(result)
    assert "Units." not in text
    assert "60,000" in text
    assert text.count("mult-adds") == 1 and "Mult-Adds" not in text
    assert "Total mult-adds (cnnzoo.analysis.count_macs): 325,680" in text
    assert result.total_mult_adds == analysis.count_macs(model, (1, 1, 32, 32)) == 325_680


def test_torchinfo_difference_is_the_biases_and_subsampling_parameters():
    # the docstring's account of torchinfo's 6,552 extra multiply-adds on lenet5_1998
    model = models.build("lenet5_1998")
    result = analysis.summary(model, (1, 1, 32, 32))
    biases = 6 * 28 * 28 + 16 * 10 * 10 + 120 + 84
    subsampling = analysis.count_parameters(model.s2) + analysis.count_parameters(model.s4)
    assert result.torchinfo_mult_adds - result.total_mult_adds == biases + subsampling == 6_552


# --------------------------------------------------------------------------- step_time


def test_step_time_measures_and_restores_the_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.LazyLinear(2))
    model(torch.zeros(2, 3, 8, 8))
    model.eval()
    before = torch.random.get_rng_state()
    measured = analysis.step_time(model, (4, 3, 8, 8), repeats=3)
    assert 0 < measured.forward and 0 < measured.training and measured.repeats == 3
    assert measured.backward == measured.training - measured.forward
    assert not model.training and all(p.grad is None for p in model.parameters())
    assert torch.equal(torch.random.get_rng_state(), before)


def test_step_time_grows_with_the_work():
    """A network with 16 times the multiply-adds takes longer (one run, compared as a ratio)."""
    small = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1))
    large = nn.Sequential(nn.Conv2d(8, 128, 3, padding=1), nn.Conv2d(128, 8, 3, padding=1))
    size = (8, 8, 32, 32)
    assert analysis.step_time(large, size, repeats=5).training > 2 * analysis.step_time(small, size, repeats=5).training


@pytest.mark.parametrize("bad", [dict(repeats=0), dict(repeats=2.0), dict(warmup=-1), dict(input_size=(1, 3, 0, 8))])
def test_step_time_refuses_bad_arguments(bad):
    arguments = dict(input_size=(1, 3, 8, 8), repeats=1, warmup=0) | bad
    with pytest.raises(ValueError):
        analysis.step_time(nn.Conv2d(3, 1, 3), **arguments)


def test_saved_tensor_bytes_counts_what_backward_needs_once():
    """conv saves its input (the weight is left out); ReLU saves its output, which the next conv saves again."""
    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 1, 1), nn.BatchNorm2d(1)).eval()
    x = torch.randn(1, 2, 4, 4)
    before = copy.deepcopy(net.state_dict())
    # input 2x4x4, ReLU output 3x4x4 (shared with conv2's input), conv2's output 1x4x4 (batch norm's input),
    # and batch norm's saved mean and inverse standard deviation (1 value each), float32.
    assert analysis.saved_tensor_bytes(net, x) == 4 * (32 + 48 + 16 + 1 + 1)
    assert not net.training  # the mode is restored
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in before.items())  # so are the running statistics
    with pytest.raises(ValueError, match="nn.Module"):
        analysis.saved_tensor_bytes(lambda x: x, x)
    with pytest.raises(ValueError, match="tensor"):
        analysis.saved_tensor_bytes(net, [x])
