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


def test_expected_depth_is_three_quarters_of_the_blocks_less_a_quarter():
    # Sec. 3 and the module docstring: with p_L = 0.5, sum_l p_l = (3L - 1) / 4; 40.25 for L = 54.
    for n in (1, 3, 18):
        model = sd.add_stochastic_depth(resnet.CifarResNet(6 * n + 2, widths=(2, 4, 4)), 0.5)
        blocks = 3 * n
        assert sd.expected_depth(model) == pytest.approx((3 * blocks - 1) / 4)
    assert sd.expected_depth(models.build("resnet110_cifar", stochastic_depth=0.5)) == pytest.approx(40.25)


def test_the_transition_shortcut_is_option_a_subsampling():
    # The documented deviation: the authors' code average-pools the shortcut where the maps halve; we subsample.
    model = sd.add_stochastic_depth(resnet.CifarResNet(8, widths=(2, 4, 4)), 0.5)
    block = model.layer2[0].block
    x = torch.randn(1, 2, 8, 8)
    expected = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 0, 2))
    assert torch.equal(block.shortcut(x), expected)
    assert not torch.allclose(block.shortcut(x), F.pad(F.avg_pool2d(x, 2), (0, 0, 0, 0, 0, 2)))


def test_a_dropped_block_trains_and_leaves_its_input_alone():
    # The identity shortcut returns x itself: an in-place ReLU on it would break the backward pass.
    torch.manual_seed(0)
    model = sd.add_stochastic_depth(resnet.CifarResNet(14, widths=(4, 4, 4)), 0.5)
    for m in model.modules():
        if isinstance(m, sd.StochasticDepth):
            m.survival = 1e-9  # drop every block (not a value a user may pass: the constructor wants > 0)
    x = torch.randn(4, 3, 8, 8)
    model.train()
    F.cross_entropy(model(x), torch.arange(4)).backward()
    assert model.conv1.weight.grad is not None and model.conv1.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.layer1.parameters())  # the branches never ran

    block = sd.StochasticDepth(resnet.BasicBlock(4, 4, shortcut="A"), 1e-9).train()
    h = torch.relu(torch.randn(2, 4, 6, 6))
    version = h._version
    block(h)
    assert h._version == version


def _tiny(p_last=None, seed=0):
    torch.manual_seed(seed)
    model = resnet.CifarResNet(14, widths=(4, 4, 8), in_channels=1)
    return sd.add_stochastic_depth(model, p_last) if p_last is not None else model


def test_decisions_record_each_steps_draws():
    model = _tiny(0.5).eval()
    x = torch.randn(2, 1, 8, 8)
    torch.manual_seed(5)
    grid = sd.decisions(model, x, 400)
    assert grid.shape == (400, 6) and grid.dtype == torch.bool and not model.training
    frequency = grid.float().mean(0)
    p = torch.tensor(sd.survival_probabilities(model))
    assert (frequency - p).abs().max() < 0.1  # 400 draws: a standard deviation of 0.025 at most
    assert grid[-1].tolist() == [m.last_kept for m in model.modules() if isinstance(m, sd.StochasticDepth)]
    assert sd.decisions(_tiny(1.0), x, 3).all()
    with pytest.raises(ValueError, match="no StochasticDepth"):
        sd.decisions(_tiny(), x, 3)
    with pytest.raises(ValueError, match="steps"):
        sd.decisions(model, x, 0)


def _digits(n=64):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)


def test_train_steps_counts_the_blocks_it_ran_and_repeats_with_a_seed():
    images, labels = _digits()
    plain = sd.train_steps(_tiny(), images, labels, steps=6, batch_size=16, lr=0.01, seed=3)
    again = sd.train_steps(_tiny(), images, labels, steps=6, batch_size=16, lr=0.01, seed=3)
    assert plain.blocks == [6] * 6 and plain.losses == again.losses
    assert len(plain.seconds) == 6 and all(s > 0 for s in plain.seconds)
    other = sd.train_steps(_tiny(), images, labels, steps=6, batch_size=16, lr=0.01, seed=4)
    assert other.losses[0] != plain.losses[0]  # another order of the images
    torch.manual_seed(1)
    model = _tiny(0.5)
    run = sd.train_steps(model, images, labels, steps=40, batch_size=16, lr=0.01, seed=3, optimizer="adam")
    assert min(run.blocks) < 6 and max(run.blocks) <= 6
    assert run.blocks[-1] == sum(m.last_kept for m in model.modules() if isinstance(m, sd.StochasticDepth))
    assert sum(run.blocks) / 40 == pytest.approx(sd.expected_depth(model), abs=0.6)  # 4.25 expected
    fitted = sd.train_steps(_tiny(), images, labels, steps=60, batch_size=16, lr=0.01, seed=3, optimizer="adam")
    assert sum(fitted.losses[-4:]) < sum(fitted.losses[:4])  # it learns: 64 random images, memorised
    for kwargs in ({"steps": 0}, {"batch_size": 65}, {"optimizer": "rmsprop"}, {"batch_size": True}):
        with pytest.raises(ValueError):
            sd.train_steps(_tiny(), images, labels, **{"steps": 2, "batch_size": 16, "lr": 0.01, "seed": 0, **kwargs})
    with pytest.raises(ValueError, match="same length"):
        sd.train_steps(_tiny(), images, labels[:10], steps=2, batch_size=4, lr=0.01, seed=0)


def test_interleaved_step_times_times_each_model_in_turn():
    images, labels = _digits(8)
    order = []
    nets = {"a": _tiny(), "b": _tiny(0.5)}
    for name, net in nets.items():
        net.register_forward_pre_hook(lambda *args, name=name: order.append(name))
    times = sd.interleaved_step_times(nets, images, labels, rounds=3)
    assert order == ["a", "b"] * 4  # one untimed round, then three timed, in turn
    assert [len(t) for t in times.values()] == [3, 3] and all(s > 0 for t in times.values() for s in t)
    assert all(p.grad is None or not p.grad.any() for net in nets.values() for p in net.parameters())
    with pytest.raises(ValueError):
        sd.interleaved_step_times(nets, images, labels, rounds=0)
