"""ResNeXt (models/resnext.py) against Xie et al. (2017), Table 1, and torchvision's twins."""

from __future__ import annotations

import pytest
import torch
import torchvision

from cnnzoo import analysis, models

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
