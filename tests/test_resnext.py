"""ResNeXt (models/resnext.py) against Xie et al. (2017), Table 1, Figure 3 (the three equivalent forms), torchvision's twins, and the CIFAR networks (Sec. 5.3, Table 7; the authors' Torch code)."""

from __future__ import annotations

import math

import pytest
import torch
import torchvision

from cnnzoo import analysis, models
from cnnzoo.models import resnext

pytestmark = pytest.mark.usefixtures("one_thread")

NAMES = ["resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d"]


@pytest.mark.parametrize("name", NAMES)
def test_names_and_shapes_are_torchvision_s(name):
    with torch.device("meta"):
        theirs = torchvision.models.get_model(name, weights=None)
        ours = models.build(name)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [(k, v.shape) for k, v in theirs.state_dict().items()]


def test_outputs_equal_torchvision_s_with_its_weights():
    torch.manual_seed(0)
    theirs = torchvision.models.resnext50_32x4d(weights=None).eval()
    ours = models.build("resnext50_32x4d").eval()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x))


def test_table_1_widths_and_stride_placement():
    """Table 1: ResNeXt-50's conv2 block is 1x1 128, 3x3 128 with C = 32, 1x1 256; the stride is on the 3x3 (Sec. 4)."""
    model = models.build("resnext50_32x4d")
    block = model.layer1[0]
    assert (block.conv1.out_channels, block.conv2.out_channels, block.conv2.groups, block.conv3.out_channels) == (128, 128, 32, 256)
    assert [model.layer4[0].conv2.out_channels, model.layer4[0].conv3.out_channels] == [1024, 2048]
    assert model.layer2[0].conv2.stride == (2, 2) and model.layer2[0].conv1.stride == (1, 1)
    # Table 1: about the same parameters and multiply-adds as ResNet-50 (25.0 M / 4.2 G against 25.5 M / 4.1 G).
    resnext = analysis.count_macs(model, (1, 3, 224, 224)) / 1e9
    resnet = analysis.count_macs(models.build("resnet50", stride_on="3x3"), (1, 3, 224, 224)) / 1e9
    assert round(resnext, 1) == 4.2 and round(resnet, 1) == 4.1


# --------------------------------------------------------------------------- the block's three forms (Figure 3)

FORM_SHAPES = [  # (in_channels, channels, C, d, stride): ResNeXt-50's conv2 and conv3 first blocks, a small one
    (256, 64, 32, 4, 1),
    (256, 128, 32, 8, 2),
    (64, 16, 4, 4, 1),
    (24, 8, 3, 2, 2),
]


def _randomised_grouped(shape, seed):
    """Form (c) with random batch-norm scales, shifts and running statistics (else they are 1 and 0)."""
    torch.manual_seed(seed)
    block = resnext.grouped_block(*shape)
    for module in block.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            torch.nn.init.normal_(module.weight)
            torch.nn.init.normal_(module.bias)
            module.running_mean.normal_()
            module.running_var.uniform_(0.5, 2.0)
            module.num_batches_tracked.fill_(7)
    return block


@pytest.mark.parametrize("shape", FORM_SHAPES)
@pytest.mark.parametrize("form", [resnext.SplitTransformMerge, resnext.EarlyConcatenation])
@pytest.mark.parametrize("training", [False, True])
def test_tied_forms_compute_the_same_function(shape, form, training):
    grouped = _randomised_grouped(shape, seed=sum(shape))
    other = form(*shape)
    resnext.tie_weights(grouped, other)
    x = torch.randn(4, shape[0], 8, 8, generator=torch.Generator().manual_seed(2))
    grouped.train(training)
    other.train(training)
    with torch.no_grad():
        expected, result = grouped(x), other(x)
    assert result.shape == expected.shape == (4, 4 * shape[1], 8 // shape[4], 8 // shape[4])
    torch.testing.assert_close(result, expected, atol=1e-5, rtol=1e-5)
    assert other.paths[0].bn1.num_batches_tracked == grouped.bn1.num_batches_tracked
    if training:  # the batch statistics updated the running statistics the same way
        torch.testing.assert_close(other.bn.running_mean, grouped.bn3.running_mean)
        torch.testing.assert_close(other.paths[-1].bn2.running_var, grouped.bn2.running_var[-shape[3]:])


def test_untied_forms_differ():
    shape = FORM_SHAPES[2]
    grouped, split = _randomised_grouped(shape, 0), resnext.SplitTransformMerge(*shape)
    x = torch.randn(2, shape[0], 8, 8)
    with torch.no_grad():
        assert not torch.allclose(grouped.eval()(x), split.eval()(x), atol=1e-3)


def test_a_batch_norm_per_path_after_the_last_1x1_is_not_equivalent():
    """Why form (a) has one batch norm on the sum: normalising each path's output is another function."""
    shape = FORM_SHAPES[2]
    grouped, split = _randomised_grouped(shape, 0), resnext.SplitTransformMerge(*shape)
    resnext.tie_weights(grouped, split)
    per_path = [torch.nn.BatchNorm2d(split.out_channels) for _ in split.paths]
    x = torch.randn(4, shape[0], 8, 8)
    with torch.no_grad():
        normalised_each = sum(bn(path(x)) for bn, path in zip(per_path, split.paths))
        normalised_sum = split.bn.train()(sum(path(x) for path in split.paths))
    assert not torch.allclose(normalised_each, normalised_sum, atol=1e-2)


@pytest.mark.parametrize("shape", FORM_SHAPES)
def test_forms_have_equal_parameters_and_multiply_adds(shape):
    forms = [resnext.SplitTransformMerge(*shape), resnext.EarlyConcatenation(*shape), resnext.grouped_block(*shape)]
    assert len({analysis.count_parameters(f) for f in forms}) == 1
    assert len({analysis.count_macs(f, (1, shape[0], 8, 8)) for f in forms}) == 1


def test_form_a_paths_and_shapes():
    block = resnext.SplitTransformMerge(64, 16, cardinality=4, width=4, stride=2)
    assert len(block.paths) == 4
    path = block.paths[0]
    assert [(m.in_channels, m.out_channels, m.kernel_size, m.stride) for m in (path.reduce, path.transform, path.expand)] == [
        (64, 4, (1, 1), (1, 1)), (4, 4, (3, 3), (2, 2)), (4, 64, (1, 1), (1, 1))]
    out = block.paths[0](torch.zeros(1, 64, 8, 8))  # the shape comments of residual()
    assert out.shape == (1, 64, 4, 4)


def test_grouped_block_is_the_networks_block():
    block = resnext.grouped_block(256, 64, cardinality=32, width=4)
    twin = models.build("resnext50_32x4d").layer1[1]
    assert [(k, v.shape) for k, v in block.state_dict().items()] == [(k, v.shape) for k, v in twin.state_dict().items()]
    assert block.conv2.groups == 32 and block.conv2.out_channels == 128


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="64 \\* width must be a multiple of channels"):
        resnext.grouped_block(64, 24, cardinality=4, width=4)
    with pytest.raises(ValueError, match="cardinality"):
        resnext.SplitTransformMerge(64, 16, cardinality=0, width=4)
    with pytest.raises(ValueError, match="stride"):
        resnext.EarlyConcatenation(64, 16, cardinality=4, width=4, stride=3)
    with pytest.raises(ValueError, match="cardinalities differ"):
        resnext.tie_weights(resnext.grouped_block(64, 16, 4, 4), resnext.SplitTransformMerge(64, 16, 2, 8))
    with pytest.raises(ValueError, match="expects a Bottleneck"):
        resnext.tie_weights(resnext.SplitTransformMerge(64, 16, 4, 4), resnext.SplitTransformMerge(64, 16, 4, 4))
    with pytest.raises(ValueError, match="shape"):
        resnext.tie_weights(resnext.grouped_block(64, 16, 4, 4), resnext.SplitTransformMerge(32, 16, 4, 4))


# --------------------------------------------------------------------------- the CIFAR networks (Sec. 5.3, Table 7)

CIFAR_NAMES = {"resnext29_8x64d": 8, "resnext29_16x64d": 16}


def _torch_code_parameters(cardinality: int, base_width: int = 64, classes: int = 10) -> int:
    """Parameters of the authors' Torch model (facebookresearch/ResNeXt, models/resnext.lua, CIFAR, form C).

    Written from that file, not from ours: convolutions without biases (``v.bias = nil``), a
    batch norm (scale and shift) after each, option B shortcuts (a 1x1 convolution and a batch
    norm where the maps change), ``D = floor(n * baseWidth / 64)`` for the stages n = 64, 128, 256.
    """
    total = 3 * 64 * 9 + 2 * 64  # the first 3x3 convolution and its batch norm
    in_maps = 64
    for n in (64, 128, 256):
        d = n * base_width // 64
        inner = d * cardinality
        for _ in range(3):
            total += in_maps * inner + 2 * inner            # 1x1, batch norm
            total += inner * d * 9 + 2 * inner              # grouped 3x3 (each kernel reads d maps), batch norm
            total += inner * 4 * n + 2 * 4 * n              # 1x1, batch norm
            if in_maps != 4 * n:
                total += in_maps * 4 * n + 2 * 4 * n        # the projection shortcut
            in_maps = 4 * n
    return total + 1024 * classes + classes                # the fully connected layer


@pytest.mark.parametrize("name", CIFAR_NAMES)
def test_cifar_parameters_are_the_torch_code_s_and_table_7_s(name):
    """Table 7 prints 34.4M and 68.1M: the exact counts truncated (68,155,210 would round to 68.2M)."""
    with torch.device("meta"):
        model = models.build(name)
    params = analysis.count_parameters(model)
    assert params == _torch_code_parameters(CIFAR_NAMES[name])
    assert math.floor(params / 1e5) / 10 == {"resnext29_8x64d": 34.4, "resnext29_16x64d": 68.1}[name]
    with torch.device("meta"):
        assert analysis.count_parameters(models.build(name, num_classes=100)) == _torch_code_parameters(CIFAR_NAMES[name], classes=100)


@pytest.mark.parametrize("name", CIFAR_NAMES)
def test_cifar_widths_strides_and_depth(name):
    """Sec. 5.3: 64 maps, three stages of three blocks with outputs 256, 512, 1024; the 3x3 strides; 29 layers."""
    c = CIFAR_NAMES[name]
    with torch.device("meta"):
        model = models.build(name)
    assert model.conv1.out_channels == 64 and model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1)
    stages = [model.layer1, model.layer2, model.layer3]
    assert [len(stage) for stage in stages] == [3, 3, 3]
    assert [stage[-1].conv3.out_channels for stage in stages] == [256, 512, 1024]
    # The grouped 3x3: C groups of d maps, d = 64 in the first stage, doubling with the widths.
    assert [(stage[0].conv2.out_channels, stage[0].conv2.groups) for stage in stages] == [(64 * c, c), (128 * c, c), (256 * c, c)]
    assert [stage[0].conv2.stride for stage in stages] == [(1, 1), (2, 2), (2, 2)]
    assert all(stage[0].conv1.stride == (1, 1) for stage in stages)
    # Projection shortcuts on each stage's first block only (64 -> 256 maps in the first stage).
    assert [[block.downsample is not None for block in stage] for stage in stages] == [[True, False, False]] * 3
    weighted = [m for name_, m in model.named_modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) and "downsample" not in name_]
    assert len(weighted) == 29 and model.fc.in_features == 1024


def test_cifar_blocks_are_grouped_blocks():
    """Each block is form (c) with C paths of d maps, d = 64, 128, 256 in the three stages."""
    with torch.device("meta"):
        model = models.build("resnext29_8x64d")
        twins = [resnext.grouped_block(256, 64, 8, 64), resnext.grouped_block(512, 128, 8, 128),
                 resnext.grouped_block(1024, 256, 8, 256)]
    for stage, twin in zip((model.layer1, model.layer2, model.layer3), twins):
        assert [(k, v.shape) for k, v in stage[1].state_dict().items()] == [(k, v.shape) for k, v in twin.state_dict().items()]


def test_cifar_network_trains_a_step_at_small_size():
    """A small member of the family (11 layers, 2x4d) takes a training step on 32x32 images; shapes as the comments say."""
    torch.manual_seed(0)
    model = resnext.CifarResNeXt(depth=11, cardinality=2, width=4, num_classes=10)
    assert model.blocks_per_stage == 1 and [stage[0].conv2.out_channels for stage in (model.layer1, model.layer2, model.layer3)] == [8, 16, 32]
    x, y = torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 2, 3])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    before = model.fc.weight.detach().clone()
    optimizer.step()
    assert model(x).shape == (4, 10) and not torch.equal(before, model.fc.weight)
    assert model.layer3(model.layer2(model.layer1(model.relu(model.bn1(model.conv1(x)))))).shape == (4, 1024, 8, 8)


def test_cifar_bad_input_is_refused():
    with pytest.raises(ValueError, match="9n \\+ 2"):
        resnext.CifarResNeXt(depth=30)
    with pytest.raises(ValueError, match="9n \\+ 2"):
        resnext.CifarResNeXt(depth=2)
    with pytest.raises(ValueError, match="cardinality"):
        resnext.CifarResNeXt(cardinality=0)
    with pytest.raises(ValueError, match="width"):
        resnext.CifarResNeXt(width=-1)
    with pytest.raises(ValueError, match="num_classes"):
        models.build("resnext29_8x64d", num_classes=0)
