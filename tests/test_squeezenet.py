"""SqueezeNet (models/squeezenet.py) against Iandola et al. (2016), Table 1, and torchvision's twins."""

from __future__ import annotations

import pytest
import torch
import torchvision

from cnnzoo import models
from cnnzoo.analysis import count_parameters
from cnnzoo.models import squeezenet

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("name", ["squeezenet1_0", "squeezenet1_1"])
def test_twin_names_shapes_and_outputs_are_torchvision_s(name):
    torch.manual_seed(0)
    theirs = torchvision.models.get_model(name, weights=None).eval()
    ours = models.build(name).eval()
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [(k, v.shape) for k, v in theirs.state_dict().items()]
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x))


@pytest.mark.parametrize("name", ["squeezenet1_0", "squeezenet1_1"])
def test_min_size_is_the_smallest_input_that_runs(name):
    model = models.build(name).eval()
    size = model.input_spec.min_size
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
        model.features(torch.zeros(1, 3, size + 1, size + 1))
        with pytest.raises(RuntimeError):
            torchvision.models.get_model(name, weights=None).eval()(torch.zeros(1, 3, size - 1, size - 1))


def test_fire_module_squeezes_then_expands_side_by_side():
    fire = squeezenet.Fire(96, 16, 64, 64)
    assert fire(torch.randn(1, 96, 55, 55)).shape == (1, 128, 55, 55)
    assert count_parameters(fire) == (96 * 16 + 16) + (16 * 64 + 64) + (16 * 9 * 64 + 64)
    # Table 1's fire2 "# parameter before pruning": 11,920 (weights 11,776 + biases 144)
    assert count_parameters(fire) == 11_920


def test_version_must_be_known():
    with pytest.raises(ValueError, match="version"):
        squeezenet.SqueezeNet("2_0")
