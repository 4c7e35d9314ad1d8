"""cnnzoo.graph: the traced computation graph, on small modules whose graph is known by hand."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo import graph, models


pytestmark = pytest.mark.usefixtures("one_thread")


class Residual(nn.Module):
    """conv -> relu -> conv, plus a strided 1x1 shortcut; one ReLU module used twice."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, stride=2, padding=1, bias=False)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.shortcut = nn.Conv2d(2, 4, 1, stride=2, bias=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.relu(self.conv1(x)))
        return self.relu(out + self.shortcut(x))


class Shared(nn.Module):
    """Two layers that share one weight, and a parameter read directly in forward."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(3, 3, bias=False)
        self.b = nn.Linear(3, 3, bias=False)
        self.b.weight = self.a.weight
        self.scale = nn.Parameter(torch.ones(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.a(x)) * self.scale


@pytest.fixture(scope="module")
def residual():
    return graph.trace(Residual(), (1, 2, 8, 8))


def test_nodes_follow_forward_with_their_inputs(residual):
    assert [n.label for n in residual] == [
        "(input)", "conv1", "relu", "conv2", "shortcut", "add", "relu (call 2)", "(output)"
    ]
    add = residual.by_label("add")
    assert add.op == "function" and add.target == "add"
    assert [residual[name].label for name in add.inputs] == ["conv2", "shortcut"]
    assert residual["shortcut"].inputs == (residual.input.name,)  # the shortcut reads the block's input
    assert residual.output.inputs == (residual.by_label("relu (call 2)").name,)
    assert [n.label for n in residual.readers(residual.input.name)] == ["conv1", "shortcut"]


def test_a_layer_called_twice_gives_two_nodes(residual):
    calls = residual.calls_of("relu")
    assert [n.call for n in calls] == [1, 2]
    assert [n.shape for n in calls] == [(1, 4, 4, 4), (1, 4, 4, 4)]


def test_shapes_macs_params_and_bytes(residual):
    conv1 = residual["conv1"]
    assert conv1.shape == (1, 4, 4, 4)
    assert conv1.macs == 4 * 4 * 4 * (2 * 3 * 3)  # outputs x (inputs per output)
    assert conv1.params == 4 * 2 * 3 * 3
    assert conv1.output_bytes == 4 * 4 * 4 * 4  # float32
    assert residual["shortcut"].macs == 4 * 4 * 4 * 2
    assert residual.by_label("add").output_bytes == 4 * 4 * 4 * 4  # a new tensor
    assert residual.by_label("relu").output_bytes == 0  # in place: no new memory
    assert residual.input.output_bytes == 2 * 8 * 8 * 4


def test_parameters_count_once():
    model = Shared()
    traced = graph.trace(model, (2, 3))
    assert [n.params for n in traced.nodes[1:-1]] == [9, 0, 3]  # a, b (shared weight), mul reads scale
    assert sum(n.params for n in traced) == sum(p.numel() for p in model.parameters()) == 12
    assert traced.not_run == {}


def test_scope_and_labels_on_resnet():
    torchvision = pytest.importorskip("torchvision")
    traced = graph.trace(torchvision.models.resnet18(weights=None), (1, 3, 32, 32))
    add = traced.by_label("add (layer2.0)")
    assert add.scope == ("layer2", "layer2.0")
    assert {traced[name].label for name in add.inputs} == {"layer2.0.bn2", "layer2.0.downsample.1"}
    assert traced.by_label("layer2.0.downsample.0").scope == ("layer2", "layer2.0", "layer2.0.downsample")
    assert [n.label for n in traced.inside("layer1.0")][-2:] == ["add (layer1.0)", "layer1.0.relu (call 2)"]
    assert len({n.label for n in traced}) == len(traced)


def test_functions_called_twice_in_one_module_are_numbered():
    class Twice(nn.Module):  # a module with a child is traced through
        def __init__(self):
            super().__init__()
            self.out = nn.Identity()

        def forward(self, x):
            return self.out(torch.cat([F.max_pool2d(x, 2), F.max_pool2d(x, 2, stride=2)], 1))

    traced = graph.trace(nn.Sequential(Twice()), (1, 1, 4, 4))
    labels = [n.label for n in traced.nodes[1:-1]]
    assert labels == ["max_pool2d (0)", "max_pool2d (0, call 2)", "cat (0)", "0.out"]
    assert traced.nodes[2].kwargs["stride"] == 2


def test_googlenet_auxiliary_heads_only_in_training_mode():
    torchvision = pytest.importorskip("torchvision")
    model = torchvision.models.googlenet(weights=None, init_weights=False, aux_logits=True).eval()
    evaluated = graph.trace(model, (1, 3, 64, 64))
    trained = graph.trace(model, (1, 3, 64, 64), train=True)
    assert not evaluated.calls_of("aux1.fc2") and trained.calls_of("aux1.fc2")
    aux = {name: sum(p.numel() for p in getattr(model, name).parameters()) for name in ("aux1", "aux2")}
    assert evaluated.not_run == aux
    assert sum(n.params for n in evaluated) + sum(aux.values()) == sum(p.numel() for p in model.parameters())
    assert trained.not_run == {} and trained.training and not evaluated.training
    assert not model.training  # left as it was


def test_trace_leaves_the_model_as_it_was():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(0.5))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state = torch.random.get_rng_state()
    graph.trace(model, (2, 1, 5, 5), train=True)
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # running stats unchanged
    assert torch.equal(state, torch.random.get_rng_state())


@pytest.mark.parametrize("name", ["lenet5", "lenet5_1998"])
def test_lenet_traces(name):
    traced = graph.trace(models.build(name), (1, 1, 32, 32))
    assert [n.label for n in traced if n.op == "module"][:4] == ["c1", "s2", "c3", "s4"]
    assert traced.by_label("c3").shape == (1, 16, 10, 10)


def test_untraceable_model_is_a_clear_error():
    class Branchy(nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x  # control flow on a tensor's value

    with pytest.raises(ValueError, match="cannot be traced by torch.fx"):
        graph.trace(Branchy(), (1, 1, 2, 2))
    with pytest.raises(ValueError, match="input_size"):
        graph.trace(Residual(), (8, 8.0))
