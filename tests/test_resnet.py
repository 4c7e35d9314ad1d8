"""ResNet (models/resnet.py) against He et al. (2016), Tables 1 and 6, and against torchvision's twins."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from cnnzoo import analysis, graph, models
from cnnzoo.analysis import count_parameters
from cnnzoo.models import pretrained, resnet

pytestmark = pytest.mark.usefixtures("one_thread")

DEPTHS = (18, 34, 50, 101, 152)
BOTTLENECK_DEPTHS = (50, 101, 152)
# Table 1, the "FLOPs" row (multiply-adds, x10^9), as printed.
TABLE_1_FLOPS = {18: 1.8, 34: 3.6, 50: 3.8, 101: 7.6, 152: 11.3}
# Table 6, the "#params" column, as printed (millions).
TABLE_6_PARAMS = {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85, 110: 1.7, 1202: 19.4}


def _meta(name: str, **kwargs) -> nn.Module:
    with torch.device("meta"):
        return models.build(name, **kwargs)


def _random_twin(depth: int) -> nn.Module:
    """torchvision's ResNet with random weights and batch-norm statistics that are not the identity."""
    torch.manual_seed(0)
    model = torchvision.models.get_model(f"resnet{depth}", weights=None)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for key, tensor in model.state_dict().items():
            if key.endswith("running_var"):
                tensor.uniform_(0.5, 2.0, generator=generator)
            elif key.endswith("running_mean") or (key.endswith("bias") and tensor.dim() == 1):
                tensor.normal_(0.0, 0.1, generator=generator)
            elif key.endswith("weight") and tensor.dim() == 1:  # batch-norm scales: small, so 50 blocks stay finite
                tensor.uniform_(0.1, 0.5, generator=generator)
    return model.eval()


# --------------------------------------------------------------------------- torchvision's twins


@pytest.mark.parametrize("depth", DEPTHS)
def test_names_shapes_and_order_are_torchvision_s(depth):
    with torch.device("meta"):
        theirs = torchvision.models.get_model(f"resnet{depth}", weights=None)
    for stride_on in ("1x1", "3x3"):
        ours = _meta(f"resnet{depth}", stride_on=stride_on)
        assert [(k, v.shape) for k, v in ours.state_dict().items()] == [(k, v.shape) for k, v in theirs.state_dict().items()]


@pytest.mark.parametrize("depth", [18, 50])
def test_outputs_equal_torchvision_s_with_its_weights(depth):
    theirs = _random_twin(depth)
    ours = models.build(f"resnet{depth}", stride_on="3x3")
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(ours.eval()(x), theirs.eval()(x))
        assert torch.equal(ours.train()(x), theirs.train()(x))  # batch statistics: the same layers in the same order


def test_paper_placement_is_another_function_with_the_same_parameters():
    """The paper strides a downsampling bottleneck's first 1x1; torchvision (V1.5) its 3x3."""
    theirs = _random_twin(50)
    paper = models.build("resnet50")
    paper.load_state_dict(theirs.state_dict(), strict=True)
    block = paper.layer2[0]
    assert (block.conv1.stride, block.conv2.stride) == ((2, 2), (1, 1))
    v15 = models.build("resnet50", stride_on="3x3").layer2[0]
    assert (v15.conv1.stride, v15.conv2.stride) == ((1, 1), (2, 2))
    assert all(b.conv1.stride == (1, 1) for _, b in resnet.residual_blocks(paper) if b.stride == 1)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert not torch.allclose(paper.eval()(x), theirs(x))
    # A basic block has one stride-2 layer either way: resnet18 is the same network.
    assert models.build("resnet18", stride_on="1x1").layer2[0].conv1.stride == (2, 2)


def test_published_weights_need_torchvision_s_stride_placement(monkeypatch):
    theirs = _random_twin(50)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", lambda url, **kwargs: theirs.state_dict())
    with pytest.raises(ValueError, match=r"stride_on='3x3'.*models.build\('resnet50', stride_on='3x3'\)"):
        pretrained.load_torchvision_weights(models.build("resnet50"), "resnet50", progress=False)
    ours = pretrained.load_torchvision_weights(models.build("resnet50", stride_on="3x3"), "resnet50", progress=False)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert torch.equal(ours.eval()(x), theirs(x))


def test_initialisation_is_he_s_and_zero_init_is_torchvision_s():
    torch.manual_seed(0)
    ours = models.build("resnet50", zero_init_residual=True)
    torch.manual_seed(0)
    theirs = torchvision.models.resnet50(weights=None, zero_init_residual=True)
    for (name, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert torch.equal(a, b), name  # same order of random draws: the same initialisation
    assert all(float(b.bn3.weight.detach().abs().sum()) == 0 for _, b in resnet.residual_blocks(ours))
    assert all(float(b.bn3.weight.detach().abs().sum()) > 0 for _, b in resnet.residual_blocks(models.build("resnet50")))


# --------------------------------------------------------------------------- Table 1 and Table 6


def test_table_1_stages():
    model = _meta("resnet50")
    weighted = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    projections = [m for name, m in model.named_modules() if name.endswith("downsample.0")]
    assert len(weighted) - len(projections) == 50  # the "50" counts the layers on the longest path
    for depth, (block, layers) in resnet.IMAGENET_LAYERS.items():
        convs_per_block = 2 if block is resnet.BasicBlock else 3
        assert 1 + convs_per_block * sum(layers) + 1 == depth
    shapes = {}
    table = analysis.layer_table(_meta("resnet34"), (1, 3, 224, 224), depth=1)
    for row in table.layers:
        shapes[row.name] = row.output_shape
    assert [shapes[f"layer{i}"][-1] for i in range(1, 5)] == [56, 28, 14, 7]
    assert [shapes[f"layer{i}"][1] for i in range(1, 5)] == [64, 128, 256, 512]


@pytest.mark.parametrize("depth", DEPTHS)
def test_multiply_adds_are_table_1_s_flops(depth):
    """Table 1's FLOPs are multiply-adds; ours are within 0.07 G of each (the printed rounding is
    not consistent: 3.66 G is printed 3.6, 7.57 G 7.6). torchvision's V1.5 adds 0.23-0.29 G."""
    paper = analysis.count_macs(_meta(f"resnet{depth}"), (1, 3, 224, 224)) / 1e9
    assert abs(paper - TABLE_1_FLOPS[depth]) < 0.07
    v15 = analysis.count_macs(_meta(f"resnet{depth}", stride_on="3x3"), (1, 3, 224, 224)) / 1e9
    if depth in BOTTLENECK_DEPTHS:
        assert 0.2 < v15 - paper < 0.3
    else:
        assert v15 == paper


@pytest.mark.parametrize("depth", resnet.CIFAR_DEPTHS)
def test_cifar_parameters_round_to_table_6(depth):
    ours = count_parameters(_meta(f"resnet{depth}_cifar")) / 1e6
    digits = 2 if TABLE_6_PARAMS[depth] < 1 else 1
    assert round(ours, digits) == TABLE_6_PARAMS[depth]


@pytest.mark.parametrize("depth", [20, 56])
def test_cifar_family_is_section_4_2_s(depth):
    model = _meta(f"resnet{depth}_cifar")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(convs) + len(linears) == depth  # 6n + 2 weighted layers: option A adds none
    assert all(c.kernel_size == (3, 3) for c in convs)
    n = (depth - 2) // 6
    assert [len(model.layer1), len(model.layer2), len(model.layer3)] == [n, n, n]
    table = analysis.layer_table(model, (1, 3, 32, 32), depth=1)
    shapes = {row.name: row.output_shape for row in table.layers}
    assert [shapes[f"layer{i}"][1:] for i in (1, 2, 3)] == [(16, 32, 32), (32, 16, 16), (64, 8, 8)]
    assert isinstance(model.layer2[0].downsample, resnet.ZeroPadShortcut)
    assert model.layer1[0].downsample is None and model.layer2[1].downsample is None


def test_option_a_is_the_identity_subsampled_and_padded_with_zeros():
    shortcut = resnet.ZeroPadShortcut(16, 32, stride=2)
    x = torch.randn(2, 16, 8, 8)
    y = shortcut(x)
    assert y.shape == (2, 32, 4, 4)
    assert torch.equal(y[:, :16], x[:, :, ::2, ::2])
    assert torch.equal(y[:, 16:], torch.zeros(2, 16, 4, 4))
    assert count_parameters(shortcut) == 0
    with pytest.raises(ValueError, match="only add channels"):
        resnet.ZeroPadShortcut(32, 16, stride=1)


def test_plain_twins_have_no_additions_and_the_same_layers():
    residual, plain = models.build("resnet20_cifar"), models.build("plain20_cifar")
    assert [(k, v.shape) for k, v in residual.state_dict().items()] == [(k, v.shape) for k, v in plain.state_dict().items()]
    plain.load_state_dict(residual.state_dict())
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    block = plain.layer1[0].eval()
    with torch.no_grad():
        assert torch.equal(block(x[:, :1].repeat(1, 16, 1, 1)), F.relu(block.residual(x[:, :1].repeat(1, 16, 1, 1))))
        assert not torch.allclose(residual.eval()(x), plain.eval()(x))
    traced_residual = [n for n in graph.trace(residual, (1, 3, 32, 32)).nodes if "add" in n.name]
    traced_plain = [n for n in graph.trace(plain, (1, 3, 32, 32)).nodes if "add" in n.name]
    assert len(traced_residual) == 9 and traced_plain == []  # one addition per block: 3 stages of n = 3
    assert count_parameters(models.build("plain18")) == count_parameters(models.build("resnet18")) - sum(
        count_parameters(m) for name, m in models.build("resnet18").named_modules() if name.endswith("downsample")
    )


def test_shortcut_options_b_and_c_project():
    b = resnet.CifarResNet(20, shortcut="B")
    c = resnet.CifarResNet(20, shortcut="C")
    projections_b = [name for name, m in b.named_modules() if name.endswith("downsample")]
    projections_c = [name for name, m in c.named_modules() if name.endswith("downsample")]
    assert projections_b == ["layer2.0.downsample", "layer3.0.downsample"]
    assert len(projections_c) == 9  # every block
    assert count_parameters(b) - count_parameters(models.build("resnet20_cifar")) == (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64)


# --------------------------------------------------------------------------- blocks


def test_a_block_is_relu_of_residual_plus_shortcut():
    torch.manual_seed(0)
    for block in (resnet.BasicBlock(8, 16, stride=2), resnet.Bottleneck(16, 4, stride=2), resnet.BasicBlock(8, 8)):
        block.eval()
        x = torch.randn(2, block.conv1.in_channels, 8, 8)
        with torch.no_grad():
            assert torch.equal(block(x), F.relu(block.residual(x) + block.shortcut(x)))
            expected = x if block.downsample is None else block.downsample(x)
            assert torch.equal(block.shortcut(x), expected)


def test_zero_init_makes_every_block_the_identity_on_its_input():
    """With each branch's last scale at 0, F(x) = 0 and a block passes relu(shortcut(x)) on; its input
    is already >= 0 (it follows a ReLU), so a block of the same shape returns its input unchanged."""
    model = models.build("resnet20_cifar", zero_init_residual=True).eval()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        h = model.relu(model.bn1(model.conv1(x)))
        for stage in (model.layer1, model.layer2, model.layer3):
            for block in stage:
                out = block(h)
                assert torch.equal(out, block.shortcut(h))
                h = out
        assert torch.equal(model(x), model.fc(torch.flatten(model.avgpool(h), 1)))


def test_bottleneck_width_follows_groups_and_width_per_group():
    block = resnet.Bottleneck(256, 128, groups=32, width_per_group=4)  # ResNeXt's 32x4d
    assert block.conv2.in_channels == block.conv2.out_channels == 256 and block.conv2.groups == 32
    assert block.conv3.out_channels == 512
    wide = resnet.Bottleneck(256, 64, width_per_group=128)  # Wide ResNet-50-2
    assert wide.conv2.out_channels == 128


def test_receptive_field_is_the_longest_path_s():
    """The field at the end of each stage is that of the residual branches' chain (the shortcuts see less)."""
    fields = analysis.receptive_field(models.build("resnet18"), (1, 3, 224, 224))
    size, jump = 7, 2  # conv1: 7x7, stride 2
    size, jump = size + 2 * jump, jump * 2  # max pooling 3x3, stride 2
    expected = {}
    for stage, stride in zip(range(1, 5), (1, 2, 2, 2)):
        for conv in range(4):  # two blocks of two 3x3 convolutions; the first strides
            size += 2 * jump
            jump *= stride if conv == 0 else 1
        expected[stage] = size
    assert expected[4] == 435
    got = {stage: max(r.size for r in fields.layers if r.name.startswith(f"layer{stage}")) for stage in range(1, 5)}
    assert got == expected


@pytest.mark.parametrize("bad, match", [
    (dict(depth=21), "6n \\+ 2"),
    (dict(depth=2), "6n \\+ 2"),
    (dict(depth=20.0), "6n \\+ 2"),
    (dict(shortcut="D"), "shortcut must be"),
    (dict(widths=(16, 32)), "three stages"),
    (dict(widths=(16, 0, 64)), "widths\\[1\\]"),
])
def test_cifar_network_refuses_bad_arguments(bad, match):
    with pytest.raises(ValueError, match=match):
        resnet.CifarResNet(**bad)


@pytest.mark.parametrize("bad, match", [
    (dict(depth=19), "Table 1"),
    (dict(stride_on="2x2"), "stride_on"),
    (dict(depth=18, groups=32), "bottleneck blocks only"),
    (dict(block=resnet.BasicBlock, layers=(2, 2)), "four stages"),
])
def test_imagenet_network_refuses_bad_arguments(bad, match):
    with pytest.raises(ValueError, match=match):
        resnet.ResNet(**bad)


def test_blocks_refuse_bad_arguments():
    with pytest.raises(ValueError, match="stride must be 1 or 2"):
        resnet.BasicBlock(8, 8, stride=3)
    with pytest.raises(ValueError, match="channels"):
        resnet.Bottleneck(8, 0)
    with pytest.raises(ValueError, match="blocks"):
        resnet.make_stage(resnet.BasicBlock, 8, 8, 0, stride=1)


def test_any_size_runs():
    model = models.build("resnet18").eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 1, 1)).shape == (1, 1000)
        assert models.build("resnet20_cifar").eval()(torch.zeros(1, 3, 1, 1)).shape == (1, 10)
