"""The Wide ResNet chapter's claims, re-checked outside the notebook.

`chapters/wide_resnet.ipynb`, section 4, times a deep, thin network (WRN-100-1) against a wide,
shallow one (WRN-16-3) with the same parameters and multiply-adds, and asserts only the direction
(the deep one takes longer for a forward pass plus a training step). The timing depends on the
machine and its load, so nbval ignores the printed times; here the same pair is timed again, in
another run, and the same loose claim is asserted. The other claims of the chapter that rest on
computation, not on the clock, are checked here too.

Time budget: at most 20 s on an idle 2-core machine (README). The timing is the notebook's (batch 8,
five paired rounds after one warm-up round, one thread), about 4 s idle; the rest is counting.
"""

from __future__ import annotations

import statistics

import pytest
import torch

from cnnzoo import analysis, models
from cnnzoo.models import resnet, wide_resnet

pytestmark = pytest.mark.usefixtures("one_thread")

BATCH, ROUNDS = 8, 5  # chapters/wide_resnet.ipynb, section 4, quick mode


def _pair():
    return wide_resnet.WideResNet(100, 1), wide_resnet.WideResNet(16, 3)


def test_the_pair_has_the_same_parameters_and_multiply_adds():
    deep, wide = _pair()
    assert abs(analysis.count_parameters(deep) / analysis.count_parameters(wide) - 1) < 0.01
    size = (1, 3, 32, 32)
    assert abs(analysis.count_macs(deep, size) / analysis.count_macs(wide, size) - 1) < 0.01
    convs = [sum(isinstance(m, torch.nn.Conv2d) for m in net.modules()) for net in (deep, wide)]
    assert convs == [99, 16]  # the same work in six times as many layers


def test_the_deep_thin_network_is_slower_at_the_same_work():
    # The notebook's procedure: rounds that time the two networks one right after the other (round 0
    # warms up), and the median over the rounds of the ratio of forward pass plus training step.
    torch.manual_seed(0)
    deep, wide = _pair()
    ratios = []
    for r in range(ROUNDS + 1):
        deep_time, wide_time = (analysis.step_time(m, (BATCH, 3, 32, 32), repeats=1, warmup=0) for m in (deep, wide))
        if r > 0:
            ratios.append((deep_time.forward + deep_time.training) / (wide_time.forward + wide_time.training))
    assert statistics.median(ratios) > 1, ratios


def test_a_silent_pre_activation_block_is_the_identity_and_resnet_s_is_not():
    x = torch.randn(2, 16, 8, 8, generator=torch.Generator().manual_seed(5))
    post, pre = resnet.BasicBlock(16, 16).eval(), wide_resnet.PreActBlock(16, 16).eval()
    with torch.no_grad():
        post.bn2.weight.zero_()
        pre.conv2.weight.zero_()
        assert torch.equal(pre(x), x)
        assert torch.equal(post(x), torch.relu(x)) and not torch.equal(post(x), x)


def test_wrn50_2_matches_resnet152_s_work_with_a_third_of_the_layers():
    size = (1, 3, 224, 224)
    with torch.device("meta"):
        wide, deep, base = (models.build(n) for n in ("wide_resnet50_2", "resnet152", "resnet50"))
    assert abs(analysis.count_macs(wide, size) / analysis.count_macs(deep, size) - 1) < 0.02
    assert analysis.count_parameters(wide) > analysis.count_parameters(deep)
    assert 2.5 < analysis.count_macs(wide, size) / analysis.count_macs(base, size) < 3.5
