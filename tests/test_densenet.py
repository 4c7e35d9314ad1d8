"""DenseNet (models/densenet.py) against Huang et al. (2017), Tables 1 and 2, and torchvision's twins."""

from __future__ import annotations

import pytest
import torch
import torchvision

from cnnzoo import models
from cnnzoo.analysis import count_parameters, saved_tensor_bytes
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


# The registered CIFAR networks: name -> (L, k, BC), Table 2's rows.
CIFAR = {"densenet_40_12": (40, 12, False), "densenet_bc_100_12": (100, 12, True),
         "densenet_bc_250_24": (250, 24, True), "densenet_bc_190_40": (190, 40, True)}


@pytest.mark.parametrize("name", sorted(CIFAR))
def test_registered_cifar_networks_are_table_2_s(name):
    depth, growth, bc = CIFAR[name]
    with torch.device("meta"):
        model = models.build(name)
    assert (model.depth, model.features.denseblock1.growth_rate) == (depth, growth)
    assert model.features.denseblock1.denselayer1.bottleneck == bc
    assert round(count_parameters(model) / 1e6, 1) == TABLE_2[(depth, growth, bc)]
    # L counts the convolutions and the classifier: 3 blocks x layers x (1 or 2), conv0, 2 transitions, fc.
    assert 3 * model.layers_per_block * (2 if bc else 1) + 4 == depth


def test_memory_efficient_twin_of_torchvision_s():
    """memory_efficient=True: the same names, and with torchvision's weights the same outputs in training."""
    torch.manual_seed(0)
    theirs = torchvision.models.densenet121(weights=None, memory_efficient=True)
    ours = models.build("densenet121", memory_efficient=True)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(ours(x), theirs(x), atol=1e-5)


def _layer_pair(bn_size):
    torch.manual_seed(0)
    plain = densenet.DenseBlock(4, in_channels=6, growth_rate=3, bn_size=bn_size)
    efficient = densenet.DenseBlock(4, in_channels=6, growth_rate=3, bn_size=bn_size, memory_efficient=True)
    efficient.load_state_dict(plain.state_dict())
    return plain, efficient


@pytest.mark.parametrize("bn_size", [4, None])
def test_memory_efficient_gives_the_same_outputs_and_gradients(bn_size):
    plain, efficient = _layer_pair(bn_size)
    assert [k for k in plain.state_dict()] == [k for k in efficient.state_dict()]
    x = torch.randn(2, 6, 5, 5, generator=torch.Generator().manual_seed(2))
    grads = []
    for block in (plain, efficient):
        xi = x.clone().requires_grad_()
        out = block(xi)
        (out * torch.arange(out.numel()).reshape(out.shape).sin()).sum().backward()
        grads.append((out.detach(), xi.grad, [p.grad for p in block.parameters()]))
    (out_a, gx_a, gp_a), (out_b, gx_b, gp_b) = grads
    assert torch.allclose(out_a, out_b, atol=1e-6)
    assert torch.allclose(gx_a, gx_b, atol=1e-6)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(gp_a, gp_b))
    # Recomputing in backward must not update the running statistics a second time.
    theirs = efficient.state_dict()
    assert all(torch.allclose(value.float(), theirs[key].float(), atol=1e-6) for key, value in plain.state_dict().items())


def test_memory_efficient_keeps_less_for_backward():
    """On DenseNet-BC-100's first block (16 layers, 24 -> 216 maps, 32x32), batch 2."""
    torch.manual_seed(0)
    plain = models.build("densenet_bc_100_12").features.denseblock1
    efficient = models.build("densenet_bc_100_12", memory_efficient=True).features.denseblock1
    x = torch.randn(2, 24, 32, 32, requires_grad=True)
    kept_plain, kept_efficient = saved_tensor_bytes(plain, x), saved_tensor_bytes(efficient, x)
    # Measured: 42,488,064 bytes against 14,653,632 (the inputs of each layer kept, the rest recomputed).
    assert kept_efficient < 0.4 * kept_plain
    # With nothing requiring a gradient nothing is checkpointed: the same memory as the plain block.
    for p in [*plain.parameters(), *efficient.parameters()]:
        p.requires_grad_(False)
    assert saved_tensor_bytes(efficient, x.detach()) == saved_tensor_bytes(plain, x.detach()) == 0


def test_memory_efficient_is_checkpointed_only_when_training():
    plain, efficient = _layer_pair(4)
    x = torch.randn(1, 6, 4, 4, requires_grad=True)
    calls = []
    efficient.denselayer1.conv1.register_forward_pre_hook(lambda *args: calls.append(1))
    efficient.train()(x).sum().backward()
    assert len(calls) == 2  # once forward, once recomputed in backward
    calls.clear()
    efficient.eval()(x).sum().backward()
    assert len(calls) == 1


def test_source_weights_on_hand_set_weights():
    """Entry (s, t): the mean |w| of target t's first convolution over the maps of source s."""
    block = densenet.DenseBlock(3, in_channels=4, growth_rate=2, bn_size=None)
    transition = densenet.Transition(block.out_channels, 5)
    with torch.no_grad():
        for t, layer in enumerate(block.children()):
            w = layer.conv2.weight  # (2, 4 + 2t, 3, 3)
            w.zero_()
            w[:, :4] = -(t + 1)            # from the block's input
            for s in range(1, t + 1):
                w[:, 4 + 2 * (s - 1): 4 + 2 * s] = 10 * s + t
        transition.conv.weight.fill_(0.5)
        transition.conv.weight[:, 4:6] = -7
    m = densenet.source_weights(block, transition)
    assert m.shape == (4, 4)
    assert m[0, :3].tolist() == [1, 2, 3]
    assert m[1, 1:3].tolist() == [11, 12] and m[2, 2] == 22
    assert m[:, 3].tolist() == [0.5, 7, 0.5, 0.5]
    assert torch.isnan(m[1, 0]) and torch.isnan(m[3, 2]) and torch.isnan(m[2, 1])
    assert densenet.source_weights(block).shape == (4, 3)


def test_source_weights_reads_the_bottleneck_and_a_classifier():
    block = densenet.DenseBlock(2, in_channels=3, growth_rate=2, bn_size=4)
    fc = torch.nn.Linear(block.out_channels, 10)
    with torch.no_grad():
        block.denselayer2.conv1.weight.fill_(1.0)
        block.denselayer2.conv1.weight[:, 3:] = 3.0
        block.denselayer2.conv2.weight.fill_(100.0)  # the 3x3 reads the bottleneck, not the sources
        fc.weight.fill_(2.0)
    m = densenet.source_weights(block, fc)
    assert m[:, 1].tolist() == [1.0, 3.0, pytest.approx(float("nan"), nan_ok=True)]
    assert m[:, 2].tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="DenseBlock"):
        densenet.source_weights(torch.nn.Conv2d(1, 1, 1))
    with pytest.raises(ValueError, match="reads 4 maps"):
        densenet.source_weights(block, torch.nn.Linear(4, 2))


def test_stage_shapes_are_the_comments():
    """densenet_bc_100_12: blocks of 16 layers, 24 -> 216 -> 108 -> 300 -> 150 -> 342 maps, 32 -> 16 -> 8."""
    model = models.build("densenet_bc_100_12")
    shapes = {}
    for name in ("denseblock1", "transition1", "denseblock2", "transition2", "denseblock3"):
        getattr(model.features, name).register_forward_hook(lambda m, a, out, name=name: shapes.__setitem__(name, tuple(out.shape)))
    model.eval()(torch.zeros(1, 3, 32, 32))
    assert shapes == {"denseblock1": (1, 216, 32, 32), "transition1": (1, 108, 16, 16),
                      "denseblock2": (1, 300, 16, 16), "transition2": (1, 150, 8, 8),
                      "denseblock3": (1, 342, 8, 8)}


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
    with pytest.raises(ValueError, match="memory_efficient must be True or False"):
        densenet.DenseLayer(4, 2, memory_efficient="yes")
