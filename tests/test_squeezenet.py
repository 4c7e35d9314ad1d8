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


@pytest.mark.parametrize("name", ["squeezenet1_0", "squeezenet1_1"])
def test_torchvisions_published_weights_load_offline_from_the_cache(name, tmp_path, monkeypatch):
    import os
    import socket
    from urllib.parse import urlparse

    from cnnzoo.models import pretrained

    def refuse(*args, **kwargs):
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    torch.manual_seed(0)
    theirs = torchvision.models.get_model(name, weights=None).eval()
    url = torchvision.models.get_model_weights(name).DEFAULT.url
    torch.save(theirs.state_dict(), tmp_path / os.path.basename(urlparse(url).path))  # as if downloaded before
    ours = pretrained.load_torchvision_weights(models.build(name), name, model_dir=tmp_path, progress=False).eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x))


# Table 1 of Iandola et al. (2016) at its 224x224 input, as Caffe computes it (227 makes the
# 111x111 the table prints after conv1; see the chapter): the maps after each stage of squeezenet1_0.
TABLE1_MAPS = {"conv1": 111, "maxpool1": 55, "fire4": 55, "maxpool4": 27, "fire8": 27, "maxpool8": 13, "fire9": 13}


def test_stage_shapes_are_table_1s_at_227_and_the_forward_comments():
    model = models.build("squeezenet1_0").eval()
    names = {"conv1": 0, "maxpool1": 2, "fire4": 5, "maxpool4": 6, "fire8": 10, "maxpool8": 11, "fire9": 12}
    x = torch.zeros(1, 3, 227, 227)
    sizes = {}
    with torch.no_grad():
        for index, layer in enumerate(model.features):
            x = layer(x)
            sizes[index] = x.shape[-1]
        assert x.shape == (1, 512, 13, 13)  # the comment in forward: fire9
        assert model.classifier(x).shape == (1, 1000, 1, 1)
    assert {name: sizes[i] for name, i in names.items()} == TABLE1_MAPS


def test_v1_1_has_2_4x_fewer_multiply_adds_and_slightly_fewer_parameters():
    from cnnzoo.analysis import count_macs

    v10, v11 = models.build("squeezenet1_0"), models.build("squeezenet1_1")
    ratio = count_macs(v10, (1, 3, 224, 224)) / count_macs(v11, (1, 3, 224, 224))
    assert round(ratio, 1) == 2.3  # the release notes' "2.4x": 0.819 / 0.349 GMACs (torchvision's metadata)
    assert count_parameters(v11) < count_parameters(v10)
