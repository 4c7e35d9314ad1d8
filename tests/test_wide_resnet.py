"""Wide ResNet (models/wide_resnet.py) against Zagoruyko and Komodakis (2016) and torchvision's twins."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from cnnzoo import analysis, models
from cnnzoo.analysis import count_parameters
from cnnzoo.models import wide_resnet

pytestmark = pytest.mark.usefixtures("one_thread")

# Parameters as printed (millions): Table 4 (WRN-40-4 8.9M, WRN-16-8 11.0M, WRN-28-10 36.5M).
PAPER_PARAMS = {"wrn40_4": 8.9, "wrn16_8": 11.0, "wrn28_10": 36.5}


@pytest.mark.parametrize("name", sorted(PAPER_PARAMS))
def test_parameters_round_to_the_paper_s(name):
    with torch.device("meta"):
        model = models.build(name)
    assert round(count_parameters(model) / 1e6, 1) == PAPER_PARAMS[name]


def test_structure_is_table_1_s():
    with torch.device("meta"):
        model = models.build("wrn28_10")
    assert model.blocks_per_group == 4 and [len(model.layer1), len(model.layer2), len(model.layer3)] == [4, 4, 4]
    table = analysis.layer_table(model, (1, 3, 32, 32), depth=1)
    shapes = {row.name: row.output_shape[1:] for row in table.layers}
    assert [shapes[f"layer{i}"] for i in (1, 2, 3)] == [(160, 32, 32), (320, 16, 16), (640, 8, 8)]
    block_convs = [m for name, m in model.named_modules() if isinstance(m, nn.Conv2d) and "downsample" not in name and name != "conv1"]
    assert len(block_convs) == 6 * 4 and all(c.kernel_size == (3, 3) for c in block_convs)
    projections = [name for name, m in model.named_modules() if name.endswith("downsample") and m is not None]
    assert projections == ["layer1.0.downsample", "layer2.0.downsample", "layer3.0.downsample"]
    with pytest.raises(ValueError, match="6N \\+ 4"):
        wide_resnet.WideResNet(depth=27)


def test_pre_activation_block_order_and_dropout():
    torch.manual_seed(0)
    block = wide_resnet.PreActBlock(4, 8, stride=2, dropout=0.3).eval()
    with torch.no_grad():
        block.bn1.running_mean.uniform_(-1, 1)
        block.bn2.running_var.uniform_(0.5, 2)
    x = torch.randn(2, 4, 8, 8)
    with torch.no_grad():
        activated = F.relu(block.bn1(x))
        expected = block.conv2(F.relu(block.bn2(block.conv1(activated)))) + block.downsample(activated)
        assert torch.allclose(block(x), expected, atol=1e-6)
        assert torch.allclose(block(x), block.residual(x) + block.shortcut(x), atol=1e-6)
        assert (block(x) < 0).any()  # no ReLU after the addition
    block.train()
    torch.manual_seed(1)
    first = block(x)
    torch.manual_seed(2)
    assert not torch.equal(first, block(x))  # dropout between the convolutions is on in training
    same = wide_resnet.PreActBlock(8, 8).eval()
    assert same.downsample is None
    with torch.no_grad():
        y = torch.randn(2, 8, 4, 4)
        assert torch.allclose(same(y), same.residual(y) + y)


@pytest.mark.parametrize("name", ["wide_resnet50_2", "wide_resnet101_2"])
def test_imagenet_twins_are_torchvision_s(name):
    torch.manual_seed(0)
    theirs = torchvision.models.get_model(name, weights=None).eval()
    ours = models.build(name).eval()
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [(k, v.shape) for k, v in theirs.state_dict().items()]
    assert count_parameters(ours) == torchvision.models.get_model_weights(name).DEFAULT.meta["num_params"]
    if name == "wide_resnet50_2":
        ours.load_state_dict(theirs.state_dict())
        x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            assert torch.equal(ours(x), theirs(x))
        assert ours.layer1[0].conv2.out_channels == 2 * models.build("resnet50").layer1[0].conv2.out_channels


@pytest.mark.parametrize("depth, k", [(16, 8), (28, 10), (40, 4), (10, 2), (40, 1), (22, 1)])
def test_depth_counts_the_convolutions_projections_included(depth, k):
    # WRN-n-k: "a total number of convolutional layers n" (Sec. 2); the 4 beyond the blocks' 6N are the
    # first convolution and the three 1x1 projections (szagoruyko/wide-residual-networks issue #18).
    with torch.device("meta"):
        model = wide_resnet.WideResNet(depth, k)
    convs = [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    projections = [name for name in convs if name.endswith("downsample")]
    assert len(projections) == (3 if k > 1 else 2)  # k = 1: the first group keeps 16 maps at stride 1
    assert len(convs) == (depth if k > 1 else depth - 1)
    assert len(convs) - len(projections) - 1 == 6 * model.blocks_per_group


def test_parameters_grow_as_k_squared():
    # Every layer but the first convolution and the classifier has k x as many inputs and outputs.
    with torch.device("meta"):
        counts = {k: count_parameters(wide_resnet.WideResNet(16, k)) for k in (1, 2, 4, 8, 16)}
    ratios = [counts[2 * k] / counts[k] for k in (1, 2, 4, 8)]
    assert all(3.5 < r < 4.0 for r in ratios) and ratios == sorted(ratios)  # approaches 4 from below
