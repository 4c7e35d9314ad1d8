"""GoogLeNet: the Inception modules, the paper's network against Table 1, and torchvision's twin."""

from __future__ import annotations

import math

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo import analysis, diagrams, graph, models, training
from cnnzoo.analysis import count_parameters
from cnnzoo.models import googlenet as zoo

matplotlib.use("Agg")
torchvision = pytest.importorskip("torchvision")

pytestmark = pytest.mark.usefixtures("one_thread")

PAPER_SIZE = (1, 3, 224, 224)
TABLE_ROWS = {" + ".join(row.layers): row for row in zoo.TABLE_1 if row.layers}

# Table 1's rows whose params (K = 1024, our weights without biases) and ops (M = 10^6, our
# multiply-adds at 224x224) agree within one unit of the last printed digit; the others are the
# table's own inconsistencies, listed in googlenet.py beside TABLE_1.
PARAMS_AGREE = {"conv2 + conv3", "inception3a", "inception3b", "inception4b", "fc"}
PARAMS_DISAGREE = {"conv1", "inception4a", "inception4c", "inception4d", "inception4e", "inception5a", "inception5b"}
OPS_DISAGREE = {"conv1", "inception5a"}


@pytest.fixture(scope="module")
def paper_net() -> nn.Module:
    torch.manual_seed(0)
    return models.build("googlenet_2014").eval()


@pytest.fixture(scope="module")
def paper_table(paper_net) -> analysis.LayerTable:
    """Our per-module table at the paper's 224x224, eval mode (what Table 1 counts)."""
    return analysis.layer_table(paper_net, PAPER_SIZE, depth=1)


def _weights(model: nn.Module, layers: tuple[str, ...]) -> int:
    """The weights (biases left out, as Table 1 counts) of the named children."""
    return sum(p.numel() for layer in layers for name, p in getattr(model, layer).named_parameters() if name.endswith("weight"))


def _randomise_batch_norm(model: nn.Module) -> None:
    """Non-trivial running statistics and affine parameters, so that eval mode tests batch norm."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)


# --------------------------------------------------------------------------- Table 1 as data


def test_table_1_widths_give_its_depths_and_22_layers():
    for row in zoo.TABLE_1:
        if row.spec is not None:
            assert row.spec.out_channels == row.output[2], row.type
    assert sum(row.depth for row in zoo.TABLE_1) == zoo.PAPER_DEPTH == 22
    assert list(zoo.INCEPTION_SPECS) == [f"inception{k}" for k in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b")]


def test_printed_numbers():
    assert zoo.printed_number("2.7K") == (2700.0, 100.0)
    assert zoo.printed_number("112K", base=1024) == (112 * 1024.0, 1024.0)
    assert zoo.printed_number("1.5G") == (1.5e9, 1e8)
    for bad in ("2.7", "K", "12k", 12, None):
        with pytest.raises(ValueError, match="expected a count"):
            zoo.printed_number(bad)
    with pytest.raises(ValueError, match="base"):
        zoo.printed_number("1K", base=100)


def test_output_sizes_are_table_1s():
    """Every row's output (H, W, depth) at 224x224, from forward hooks on the meta device."""
    with torch.device("meta"):
        model = models.build("googlenet_2014").eval()
        shapes = {}
        for name, child in model.named_children():
            child.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:])))
        model(torch.zeros(PAPER_SIZE))
    for row in zoo.TABLE_1:
        if not row.layers:
            continue
        shape = shapes[row.layers[-1]]
        height, width, depth = row.output
        expected = (depth, height, width) if len(shape) == 3 else (depth * height * width,)  # dropout reads the flattened vector
        assert shape == expected, row.type


def test_patch_sizes_and_strides_are_table_1s(paper_net):
    """"7x7/2": kernel 7, stride 2. The avg pool row ("7x7/1") is an adaptive global pooling (a deviation)."""
    checked = 0
    for row in zoo.TABLE_1:
        if row.patch is None or row.layers == ("avgpool",):
            continue
        layer = getattr(paper_net, row.layers[-1])
        layer = getattr(layer, "conv", layer)
        kernel, stride = row.patch.split("/")
        assert tuple(map(int, kernel.split("x"))) == tuple(torch.nn.modules.utils._pair(layer.kernel_size)), row.type
        assert (int(stride),) * 2 == tuple(torch.nn.modules.utils._pair(layer.stride)), row.type
        checked += 1
    assert checked == 6  # two convolutions, four max poolings
    assert isinstance(paper_net.avgpool, nn.AdaptiveAvgPool2d) and paper_net.avgpool.output_size == 1


def test_parameters_against_table_1s_params_column(paper_net):
    agree, disagree = set(), set()
    for key, row in TABLE_ROWS.items():
        if row.params is None:
            assert _weights(paper_net, row.layers) == 0, key
            continue
        printed, unit = zoo.printed_number(row.params, base=1024)
        (agree if abs(_weights(paper_net, row.layers) - printed) <= unit else disagree).add(key)
    assert agree == PARAMS_AGREE
    assert disagree == PARAMS_DISAGREE
    # K = 1024, not 1000: two rows are exact multiples of 1024 weights.
    assert _weights(paper_net, ("fc",)) == 1000 * 1024 and _weights(paper_net, ("conv2", "conv3")) == 112 * 1024
    # The column's total against ours (without the auxiliary heads, which Table 1 leaves out): within 1%.
    column = sum(zoo.printed_number(row.params, base=1024)[0] for row in zoo.TABLE_1 if row.params)
    main = count_parameters(paper_net) - count_parameters(paper_net.aux1) - count_parameters(paper_net.aux2)
    assert main == 6_998_552  # the module docstring's number
    assert abs(main - column) / column < 0.01


def test_multiply_adds_against_table_1s_ops_column(paper_table):
    disagree = set()
    for key, row in TABLE_ROWS.items():
        if row.ops is None:
            continue
        printed, unit = zoo.printed_number(row.ops)
        ours = sum(paper_table[layer].macs for layer in row.layers)
        if abs(ours - printed) > unit:
            disagree.add(key)
    assert disagree == OPS_DISAGREE
    # conv1: 9,408 weights at 112 x 112 positions, where the paper prints 34M.
    assert paper_table["conv1"].macs == 7 * 7 * 3 * 64 * 112 * 112
    # The column sums to Sec. 1's "1.5 billion multiply-adds"; ours equal it but for the two rows.
    column = {key: zoo.printed_number(row.ops)[0] for key, row in TABLE_ROWS.items() if row.ops}
    assert round(sum(column.values()) / 1e9, 1) == zoo.PAPER_MULTIPLY_ADDS / 1e9
    rest = paper_table.total_macs - sum(paper_table[key].macs for key in OPS_DISAGREE)
    assert abs(rest - (sum(column.values()) - sum(column[key] for key in OPS_DISAGREE))) / rest < 0.005
    assert paper_table.total_macs == analysis.count_macs(models.build("googlenet_2014").eval(), PAPER_SIZE)


def test_auxiliary_heads_are_section_5s(paper_net):
    for head, depth in ((paper_net.aux1, 512), (paper_net.aux2, 528)):
        assert head.conv.conv.in_channels == depth and head.conv.conv.out_channels == 128
        assert head.conv.conv.kernel_size == (1, 1)
        assert (head.fc1.in_features, head.fc1.out_features) == (128 * 4 * 4, 1024)
        assert head.dropout.p == 0.7 and head.fc2.out_features == 1000
    assert paper_net.dropout.p == 0.4


def test_auxiliary_head_is_the_papers_formula_at_14x14(paper_net):
    """avg pool 5x5/3 -> 4x4, 1x1 conv + ReLU, FC + ReLU, (dropout), linear; the adaptive pooling is the identity."""
    head = paper_net.aux1
    torch.manual_seed(0)
    x = torch.randn(2, 512, 14, 14)
    pooled = F.avg_pool2d(x, kernel_size=5, stride=3)
    assert pooled.shape[-2:] == (4, 4)
    expected = F.relu(F.conv2d(pooled, head.conv.conv.weight, head.conv.conv.bias)).flatten(1)
    expected = F.linear(F.relu(F.linear(expected, head.fc1.weight, head.fc1.bias)), head.fc2.weight, head.fc2.bias)
    with torch.no_grad():
        assert torch.allclose(head.eval()(x), expected, atol=1e-5)


def test_training_mode_returns_main_and_both_auxiliary_outputs(paper_net):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 79, 79)
    model = models.build("googlenet_2014", num_classes=5)
    with torch.no_grad():
        outputs = model.train()(x)
        assert isinstance(outputs, tuple) and len(outputs) == 3
        assert all(output.shape == (2, 5) for output in outputs)
        main, auxiliary = training.split_outputs(outputs)
        assert main is outputs[0] and len(auxiliary) == 2
        single = model.eval()(x)
    assert isinstance(single, torch.Tensor) and single.shape == (2, 5)


def test_paper_network_uses_lrn_true_5x5_and_no_batch_norm(paper_net, paper_table):
    names = [row.name for row in paper_table.layers]
    assert names[:8] == ["conv1", "maxpool1", "norm1", "conv2", "conv3", "norm2", "maxpool2", "inception3a"]  # Figure 3
    assert isinstance(paper_net.norm1, nn.LocalResponseNorm) and isinstance(paper_net.norm2, nn.LocalResponseNorm)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in paper_net.modules())
    for name in zoo.INCEPTION_SPECS:
        assert getattr(paper_net, name).branch3[1].conv.kernel_size == (5, 5)
    twin = models.build("googlenet")
    assert all(getattr(twin, name).branch3[1].conv.kernel_size == (3, 3) for name in zoo.INCEPTION_SPECS)


def test_paper_initialisation():
    torch.manual_seed(0)
    model = models.build("googlenet_2014")
    conv = model.inception4e.branch2[1].conv  # 160 -> 320 maps, 3x3: fan_out = 320 * 9
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (320 * 9)), rel=0.02)
    assert model.fc.weight.std().item() == pytest.approx(0.01, rel=0.02)
    assert all(not m.bias.any() for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))


# --------------------------------------------------------------------------- Inception modules


def test_inception_concatenates_its_four_branches_in_order():
    torch.manual_seed(0)
    spec = zoo.InceptionSpec(ch1x1=3, ch3x3_reduce=2, ch3x3=4, ch5x5_reduce=2, ch5x5=5, pool_proj=6)
    block = zoo.Inception(7, spec).eval()
    x = torch.randn(2, 7, 9, 9)
    with torch.no_grad():
        y = block(x)
        parts = [block.branch1(x), block.branch2(x), block.branch3(x), block.branch4(x)]
    assert y.shape == (2, spec.out_channels, 9, 9) and spec.out_channels == 3 + 4 + 5 + 6
    assert torch.equal(y, torch.cat(parts, dim=1))
    assert block.branch3[1].conv.kernel_size == (5, 5) and block.branch4[0].kernel_size == 3


def test_naive_inception_passes_its_input_maps_through_the_pooling_branch():
    torch.manual_seed(0)
    block = zoo.NaiveInception(6, ch1x1=2, ch3x3=3, ch5x5=4).eval()
    x = torch.randn(1, 6, 8, 8)
    with torch.no_grad():
        y = block(x)
    assert y.shape == (1, 2 + 3 + 4 + 6, 8, 8) == (1, block.out_channels, 8, 8)
    assert torch.equal(y[:, -6:], F.max_pool2d(x, 3, stride=1, padding=1))
    kernels = [branch.conv.kernel_size for branch in (block.branch1, block.branch2, block.branch3)]
    assert kernels == [(1, 1), (3, 3), (5, 5)] and all(b.conv.in_channels == 6 for b in (block.branch1, block.branch2, block.branch3))


def test_reductions_cut_inception_3as_weights_and_depth():
    """Figure 2(a) against 2(b) with (3a)'s widths on its 192 input maps."""
    spec = zoo.INCEPTION_SPECS["inception3a"]
    with torch.device("meta"):
        naive = zoo.NaiveInception(192, spec.ch1x1, spec.ch3x3, spec.ch5x5)
        reduced = zoo.Inception(192, spec)
    weights = lambda block: sum(p.numel() for n, p in block.named_parameters() if n.endswith("weight"))  # noqa: E731
    assert weights(naive) == 192 * (64 * 1 + 128 * 9 + 32 * 25)
    assert weights(reduced) == 192 * (64 + 96 + 16 + 32) + 96 * 128 * 9 + 16 * 32 * 25
    assert weights(reduced) < weights(naive) / 2
    assert naive.out_channels == 64 + 128 + 32 + 192 > reduced.out_channels == 256


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "8"])
def test_inception_spec_refuses_bad_widths(bad):
    with pytest.raises(ValueError, match="ch5x5 must be a positive integer"):
        zoo.InceptionSpec(ch1x1=1, ch3x3_reduce=1, ch3x3=1, ch5x5_reduce=1, ch5x5=bad, pool_proj=1)


def test_blocks_refuse_bad_arguments():
    spec = zoo.INCEPTION_SPECS["inception3a"]
    with pytest.raises(ValueError, match="InceptionSpec"):
        zoo.Inception(192, (64, 96, 128, 16, 32, 32))
    with pytest.raises(ValueError, match="kernel_5x5 must be 5"):
        zoo.Inception(192, spec, kernel_5x5=7)
    with pytest.raises(ValueError, match="in_channels"):
        zoo.Inception(0, spec)
    with pytest.raises(ValueError, match="ch3x3"):
        zoo.NaiveInception(4, ch1x1=1, ch3x3=0, ch5x5=1)
    with pytest.raises(ValueError, match="dropout"):
        zoo.InceptionAux(512, 10, dropout=1.0)


# --------------------------------------------------------------------------- the twin


@pytest.mark.parametrize("aux_logits", [True, False])
def test_twin_has_torchvisions_names_shapes_and_order(aux_logits):
    with torch.device("meta"):
        ours = models.build("googlenet", aux_logits=aux_logits)
        theirs = torchvision.models.googlenet(weights=None, aux_logits=aux_logits, init_weights=False)
    assert [(n, t.shape) for n, t in ours.state_dict().items()] == [(n, t.shape) for n, t in theirs.state_dict().items()]
    bn = [m for m in ours.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bn and all(m.eps == 0.001 for m in bn)
    assert all(m.bias is None for m in ours.modules() if isinstance(m, nn.Conv2d))


@pytest.mark.parametrize("transform_input", [False, True])
def test_twin_outputs_equal_torchvisions_in_eval_and_training_mode(transform_input):
    torch.manual_seed(0)
    theirs = torchvision.models.googlenet(weights=None, transform_input=transform_input, init_weights=True)
    _randomise_batch_norm(theirs)
    ours = models.build("googlenet", transform_input=transform_input)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(ours.eval()(x), theirs.eval()(x), atol=1e-6)
        torch.manual_seed(1)
        main, aux1, aux2 = ours.train()(x)
        torch.manual_seed(1)  # the same dropout masks: both draw them in the same order
        named = theirs.train()(x)
    assert type(named).__name__ == "GoogLeNetOutputs"  # theirs: (logits, aux_logits2, aux_logits1)
    assert torch.allclose(main, named.logits, atol=1e-6)
    assert torch.allclose(aux1, named.aux_logits1, atol=1e-6)
    assert torch.allclose(aux2, named.aux_logits2, atol=1e-6)
    assert not torch.allclose(aux1, aux2)


def test_twin_without_auxiliary_heads_returns_one_output_in_training():
    model = models.build("googlenet", aux_logits=False, num_classes=4).train()
    assert model.aux1 is None and model.aux2 is None
    with torch.no_grad():
        y = model(torch.randn(2, 3, 15, 15))
    assert isinstance(y, torch.Tensor) and y.shape == (2, 4)


def test_transform_input_maps_imagenet_normalisation_to_minus_one_one():
    model = models.build("googlenet", transform_input=True)
    pixels = torch.rand(1, 3, 4, 4)  # in [0, 1]
    normalised = (pixels - torch.tensor(zoo.IMAGENET_MEAN)[:, None, None]) / torch.tensor(zoo.IMAGENET_STD)[:, None, None]
    assert torch.allclose(model._transform_input(normalised), (pixels - 0.5) / 0.5, atol=1e-6)
    assert torch.equal(models.build("googlenet")._transform_input(normalised), normalised)


def test_twin_initialises_like_torchvision():
    torch.manual_seed(0)
    model = models.build("googlenet")
    weights = torch.cat([m.weight.flatten() for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))])
    assert weights.std().item() == pytest.approx(0.01, rel=0.02) and weights.abs().max() < 2
    assert all(m.weight.eq(1).all() and not m.bias.any() for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def test_twin_min_size_is_torchvisions():
    assert models.build("googlenet").input_spec.min_size == torchvision.models.GoogLeNet_Weights.DEFAULT.meta["min_size"][0]


def test_twin_bad_arguments():
    with pytest.raises(ValueError, match="transform_input=True rescales 3"):
        models.build("googlenet", in_channels=1, transform_input=True)
    with pytest.raises(ValueError, match="aux_logits must be True or False"):
        models.build("googlenet", aux_logits="yes")
    with pytest.raises(ValueError, match="dropout_aux"):
        models.build("googlenet", dropout_aux=-0.1)
    with pytest.raises(ValueError, match="dropout"):
        models.build("googlenet_2014", dropout=1.5)


# --------------------------------------------------------------------------- sizes, analysis, figures


@pytest.mark.parametrize("name", ["googlenet_2014", "googlenet"])
def test_min_size_is_the_smallest_input_that_runs_in_training_mode(name):
    model = models.build(name, num_classes=3).train()
    min_size = model.input_spec.min_size
    with torch.no_grad():
        assert len(model(torch.zeros(2, 3, min_size, min_size))) == 3
        model.input_spec = model.input_spec.__class__(3, (224, 224), fixed=False, min_size=1)  # let it through
        with pytest.raises(RuntimeError):
            model(torch.zeros(2, 3, min_size - 1, min_size - 1))


@pytest.mark.parametrize("name", ["googlenet_2014", "googlenet"])
def test_layer_table_lists_concatenations_and_auxiliary_heads(name):
    model = models.build(name, num_classes=10).eval()
    size = (1, 3, 96, 96)
    evaluation = analysis.layer_table(model, size)
    names = [row.name for row in evaluation.layers]
    assert [n for n in names if n.startswith("cat")] == [f"cat ({block})" for block in zoo.INCEPTION_SPECS]
    heads = {"aux1": count_parameters(model.aux1), "aux2": count_parameters(model.aux2)}
    assert evaluation.not_run == heads and not any(n.startswith("aux") for n in names)
    assert evaluation.total_params == count_parameters(model) - sum(heads.values())
    trained = analysis.layer_table(model, size, depth=1, train=True)
    assert trained.not_run == {} and trained.total_params == count_parameters(model)
    assert trained["aux1"].output_shape == trained["aux2"].output_shape == (1, 10)
    assert trained.total_macs == analysis.count_macs(model, size, train=True) > analysis.count_macs(model, size)
    assert not model.training  # left as it was


def test_receptive_field_of_the_paper_network(paper_net):
    table = analysis.receptive_field(paper_net)
    assert table["conv1.conv"].size == 7 and table["conv1.conv"].jump == 2
    assert table["maxpool1"].size == 7 + 2 * 2 and table["maxpool1"].jump == 4
    # the widest path of (3a) is its 5x5 branch: 5 - 1 = 4 more steps of jump 8 than its input.
    assert table["inception3a.branch3.1.conv"].size == table["maxpool2"].size + 4 * 8
    assert table["avgpool"].size == "global"
    twin = analysis.receptive_field(models.build("googlenet").eval())  # its "5x5" branch is 3x3: 2 steps
    assert twin["inception3a.branch3.1.conv"].size == twin["maxpool2"].size + 2 * 8


def test_graph_trace_in_training_mode_runs_the_heads(paper_net):
    traced = graph.trace(paper_net, (1, 3, 96, 96), train=True)
    assert traced.not_run == {} and traced.training
    assert not graph.trace(paper_net, (1, 3, 96, 96)).training


@pytest.mark.parametrize("name", ["googlenet_2014", "googlenet"])
def test_diagrams(name):
    model = models.build(name)
    figure = diagrams.graph_from_model(model, PAPER_SIZE)
    blocks = [(node.name, node.count) for node in figure.nodes if node.kind == "block"]
    assert blocks == [("inception3a–b", 2), ("inception4a–e", 5), ("inception5a–b", 2)]
    inside = diagrams.graph_from_model(model, PAPER_SIZE, expand="inception3a")
    concat = inside.nodes[-1]
    assert concat.kind == "concat" and concat.inputs == ("branch1", "branch2.1", "branch3.1", "branch4.1")
    assert concat.shape == (1, 256, 28, 28)
    trained = diagrams.graph_from_model(model, PAPER_SIZE, train=True)
    assert any(node.name.startswith("aux1") for node in trained.nodes)
    assert not any(node.name.startswith("aux") for node in figure.nodes)
    for kwargs in ({}, {"expand": "inception3a"}, {"train": True}):
        plt.close(diagrams.draw(model, PAPER_SIZE, **kwargs))
