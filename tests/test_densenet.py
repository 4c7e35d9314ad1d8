"""DenseNet (models/densenet.py) against Huang et al. (2017), Tables 1 and 2, and torchvision's twins."""

from __future__ import annotations

import pytest
import torch
import torchvision

from cnnzoo import models
from cnnzoo.analysis import count_parameters
from cnnzoo.models import densenet

pytestmark = pytest.mark.usefixtures("one_thread")

TWINS = ["densenet121", "densenet161", "densenet169", "densenet201"]
# Table 2's "Params" column (millions), as printed: (L, k, BC) -> count.
TABLE_2 = {(40, 12, False): 1.0, (100, 12, False): 7.0, (100, 24, False): 27.2,
           (100, 12, True): 0.8, (250, 24, True): 15.3, (190, 40, True): 25.6}


@pytest.mark.parametrize("name", TWINS)
def test_names_and_shapes_are_torchvision_s(name):
    with torch.device("meta"):
        theirs = torchvision.models.get_model(name, weights=None)
        ours = models.build(name)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [(k, v.shape) for k, v in theirs.state_dict().items()]


def test_outputs_equal_torchvision_s_with_its_weights():
    torch.manual_seed(0)
    theirs = torchvision.models.densenet121(weights=None).eval()
    with torch.no_grad():
        for module in theirs.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
    ours = models.build("densenet121").eval()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x))


@pytest.mark.parametrize("key", sorted(TABLE_2))
def test_cifar_parameters_round_to_table_2(key):
    depth, growth, bc = key
    with torch.device("meta"):
        model = densenet.CifarDenseNet(depth, growth, bottleneck=bc, compression=0.5 if bc else 1.0)
    assert round(count_parameters(model) / 1e6, 1) == TABLE_2[key]


def test_each_layer_reads_every_earlier_map():
    """Changing the block's input or any layer's output changes every later layer's input."""
    torch.manual_seed(0)
    block = densenet.DenseBlock(3, in_channels=4, growth_rate=2, bn_size=None).eval()
    assert block.out_channels == 4 + 3 * 2
    assert [layer.conv2.in_channels for layer in block.children()] == [4, 6, 8]
    x = torch.randn(1, 4, 5, 5)
    with torch.no_grad():
        y = block(x)
        assert torch.equal(y[:, :4], x)  # the input is passed on unchanged, concatenated
        first = block.denselayer1([x])
        assert torch.equal(y[:, 4:6], first)


def test_transition_compresses_and_halves():
    t = densenet.Transition(10, 5)
    assert t(torch.randn(1, 10, 8, 8)).shape == (1, 5, 4, 4)


def test_bad_arguments():
    with pytest.raises(ValueError, match="whole number of layers"):
        densenet.CifarDenseNet(depth=41)
    with pytest.raises(ValueError, match="compression"):
        densenet.CifarDenseNet(compression=0)
    with pytest.raises(ValueError, match="four dense blocks"):
        densenet.DenseNet(block_config=(6, 12))
