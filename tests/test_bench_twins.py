"""tools/bench_twins.py: which models it pairs, that each pair computes one function, the timing table."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import bench_twins

pytestmark = pytest.mark.usefixtures("one_thread")


def test_every_twin_is_paired():
    names = bench_twins.twin_names()
    for name in ("alexnet", "vgg16_bn", "googlenet", "resnet50", "wide_resnet50_2", "resnext50_32x4d",
                 "densenet121", "squeezenet1_0"):
        assert name in names
    assert "lenet5" not in names and "resnet20_cifar" not in names


@pytest.mark.parametrize("name", ["resnet50", "squeezenet1_1"])
def test_a_pair_computes_the_same_function(name):
    """resnet50 needs the stride on the 3x3 (torchvision's V1.5) to be torchvision's function."""
    ours, theirs = bench_twins.build_pair(name)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(ours.eval()(x), theirs.eval()(x), atol=1e-5)


def test_time_pair_times_both_models_in_both_passes():
    slow = nn.Sequential(*[nn.Conv2d(3, 3, 3, padding=1) for _ in range(40)], nn.Flatten())
    fast = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Flatten())
    result = bench_twins.time_pair(slow, fast, (2, 3, 32, 32), repeats=3)
    assert result.forward_ratio > 2 and result.training_ratio > 2
    assert all(p.grad is None for p in slow.parameters())
    with pytest.raises(ValueError, match="repeats"):
        bench_twins.time_pair(slow, fast, (2, 3, 32, 32), repeats=0)


def test_unknown_names_are_refused(capsys):
    with pytest.raises(SystemExit):
        bench_twins.main(["lenet5"])
    assert "not a twin: lenet5" in capsys.readouterr().err
