"""Stochastic depth (models/stochastic_depth.py) against Huang et al. (2016), eq. 2-5."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cnnzoo import models
from cnnzoo.analysis import count_parameters
from cnnzoo.models import resnet
from cnnzoo.models import stochastic_depth as sd

pytestmark = pytest.mark.usefixtures("one_thread")


def test_linear_decay_rule():
    assert sd.linear_decay(4, 0.5) == [0.875, 0.75, 0.625, 0.5]
    p = sd.linear_decay(54, 0.5)
    assert p[-1] == 0.5 and all(a > b for a, b in zip(p, p[1:]))
    assert sd.linear_decay(3, 1.0) == [1.0, 1.0, 1.0]
    for bad in [(0, 0.5), (3, 0.0), (3, 1.5), (3, True), (2.0, 0.5)]:
        with pytest.raises(ValueError):
            sd.linear_decay(*bad)


def test_resnet110_option_wraps_its_54_blocks():
    model = models.build("resnet110_cifar", stochastic_depth=0.5)
    plain = models.build("resnet110_cifar")
    p = sd.survival_probabilities(model)
    assert len(p) == 54 and p == sd.linear_decay(54, 0.5)
    assert sd.expected_depth(model) == pytest.approx(sum(1 - l / 54 * 0.5 for l in range(1, 55)))
    assert round(sd.expected_depth(model)) == 40  # Sec. 3: "from 54 to roughly 40"
    assert count_parameters(model) == count_parameters(plain)
    assert resnet.residual_blocks(models.build("resnet50", stochastic_depth=0.5))  # any registered ResNet


def _block() -> resnet.BasicBlock:
    torch.manual_seed(0)
    block = resnet.BasicBlock(4, 8, stride=2, shortcut="A")
    with torch.no_grad():
        block.bn2.weight.uniform_(0.5, 1.5)
    return block


def test_test_time_scales_the_branch_by_its_survival_probability():
    block = _block().eval()
    wrapped = sd.StochasticDepth(block, 0.75).eval()
    x = torch.randn(2, 4, 8, 8)
    with torch.no_grad():
        assert torch.allclose(wrapped(x), F.relu(0.75 * block.residual(x) + block.shortcut(x)))
        assert not torch.allclose(wrapped(x), block(x))


def test_training_keeps_the_block_or_passes_the_shortcut_alone():
    block = _block().train()
    wrapped = sd.StochasticDepth(block, 0.5).train()
    x = torch.randn(2, 4, 8, 8)
    kept = dropped = 0
    torch.manual_seed(1)
    for _ in range(200):
        y = wrapped(x)
        if wrapped.last_kept:
            kept += 1
            assert torch.allclose(y, block(x))
        else:
            dropped += 1
            assert torch.equal(y, F.relu(block.shortcut(x)))
    assert 70 < kept < 130 and kept + dropped == 200  # Bernoulli(0.5): 100 expected, 7 standard deviations apart


def test_a_dropped_block_skips_its_convolutions():
    block = _block().train()
    wrapped = sd.StochasticDepth(block, 0.5).train()
    calls = []
    block.conv1.register_forward_hook(lambda *args: calls.append(1))
    torch.manual_seed(3)
    for _ in range(50):
        wrapped(torch.randn(1, 4, 8, 8))
    assert 0 < len(calls) < 50  # the branch ran in some steps and not in others


def test_refuses_what_it_cannot_wrap():
    with pytest.raises(ValueError, match="with a shortcut"):
        sd.StochasticDepth(resnet.BasicBlock(4, 4, shortcut=None), 0.5)
    with pytest.raises(ValueError, match="survival"):
        sd.StochasticDepth(resnet.BasicBlock(4, 4), 0.0)
    with pytest.raises(ValueError, match="no residual blocks"):
        sd.add_stochastic_depth(models.build("vgg11"), 0.5)
    from cnnzoo.models import wide_resnet

    with pytest.raises(ValueError, match="not supported"):
        sd.StochasticDepth(wide_resnet.PreActBlock(4, 4), 0.5)
