"""cnnzoo.compression: linear quantisation per output channel, bit packing, and real serialised sizes."""

from __future__ import annotations

import io
import math

import pytest
import torch
from torch import nn

from cnnzoo import compression

pytestmark = pytest.mark.usefixtures("one_thread")


def small_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 16, 1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))


@pytest.mark.parametrize("bits", range(1, 9))
def test_round_trip_error_is_at_most_half_a_step_per_weight(bits):
    w = torch.randn(6, 4, 3, 3, generator=torch.Generator().manual_seed(bits)) * torch.arange(1, 7).view(6, 1, 1, 1)
    q = compression.quantize_tensor(w, bits)
    assert q.codes.shape == w.shape and q.codes.dtype == torch.int64
    assert q.codes.min() >= 0 and q.codes.max() <= 2 ** bits - 1
    rows = w.reshape(6, -1)
    assert torch.allclose(q.scale, (rows.max(1).values - rows.min(1).values) / (2 ** bits - 1))  # one step per channel
    error = (compression.dequantize(q) - w).abs().reshape(6, -1)
    assert (error <= q.scale[:, None] / 2 + 1e-6).all()
    # the extremes of each row are levels: the first and the last code are used
    assert (q.codes.reshape(6, -1).min(1).values == 0).all() and (q.codes.reshape(6, -1).max(1).values == 2 ** bits - 1).all()


def test_the_docstring_example_and_a_constant_row():
    q = compression.quantize_tensor(torch.tensor([[0.0, 0.1, 0.3], [1.0, 1.0, 1.0]]), bits=2)
    assert q.codes.tolist() == [[0, 1, 3], [0, 0, 0]]
    assert torch.equal(compression.dequantize(q)[1], torch.ones(3))  # scale 0: restored exactly


def test_more_bits_less_error():
    w = torch.randn(8, 50, generator=torch.Generator().manual_seed(0))
    errors = [(compression.dequantize(compression.quantize_tensor(w, b)) - w).abs().max().item() for b in range(1, 9)]
    assert all(a > b for a, b in zip(errors, errors[1:]))


@pytest.mark.parametrize("bits", range(1, 9))
@pytest.mark.parametrize("count", [0, 1, 7, 8, 9, 101])
def test_packing_and_unpacking_are_exact(bits, count):
    codes = torch.randint(0, 2 ** bits, (count,), generator=torch.Generator().manual_seed(bits * 1000 + count))
    packed = compression.pack_bits(codes, bits)
    assert packed.dtype == torch.uint8 and packed.numel() == math.ceil(count * bits / 8)
    assert torch.equal(compression.unpack_bits(packed, bits, count), codes)


def test_packing_order_is_least_significant_bit_first():
    # codes 1, 2, 3 at 2 bits: bits 10 01 11 (LSB first) -> byte 0b00_11_10_01 = 57
    assert compression.pack_bits(torch.tensor([1, 2, 3]), 2).tolist() == [0b00111001]
    assert compression.pack_bits(torch.tensor([255, 1]), 8).tolist() == [255, 1]


@pytest.mark.parametrize("bits", [0, 9, -1, 2.0, "4", True])
def test_bits_must_be_an_int_from_1_to_8(bits):
    w = torch.randn(2, 3)
    for call in (lambda: compression.quantize_tensor(w, bits), lambda: compression.pack_bits(torch.zeros(3, dtype=torch.long), bits),
                 lambda: compression.quantize_model(small_net(), bits), lambda: compression.serialized_size(small_net(), bits)):
        with pytest.raises(ValueError, match=r"bits must be an int in 1\.\.8; got"):
            call()


def test_bits_none_is_refused_where_it_does_not_mean_float32():
    with pytest.raises(ValueError, match="bits must be an int"):
        compression.quantize_tensor(torch.randn(2, 3), None)


@pytest.mark.parametrize("bad", [torch.arange(6).reshape(2, 3), torch.ones(2, dtype=torch.bool), [[1.0, 2.0]], torch.empty(0, 3)])
def test_the_tensor_must_be_floating_point(bad):
    with pytest.raises(ValueError, match="w must be a floating-point tensor|at least one value"):
        compression.quantize_tensor(bad, 4)


def test_codes_out_of_range_and_bad_streams_are_refused():
    with pytest.raises(ValueError, match=r"codes must be in 0\.\.3 for 2 bits"):
        compression.pack_bits(torch.tensor([0, 4]), 2)
    with pytest.raises(ValueError, match="codes must be an integer tensor"):
        compression.pack_bits(torch.tensor([0.0, 1.0]), 2)
    with pytest.raises(ValueError, match="packed must be a uint8 tensor"):
        compression.unpack_bits(torch.tensor([1, 2]), 2, 3)
    with pytest.raises(ValueError, match="count must be in"):
        compression.unpack_bits(torch.tensor([1], dtype=torch.uint8), 4, 3)
    with pytest.raises(ValueError, match="nn.Module or a state dict"):
        compression.serialized_size([1, 2, 3])


@pytest.mark.parametrize("bits", [1, 4, 6, 8])
def test_saved_bytes_load_back_to_the_quantised_model_exactly(bits):
    net = small_net().eval()
    quantised = compression.quantize_model(net, bits)
    restored = compression.from_bytes(compression.to_bytes(net, bits))
    assert list(restored) == list(net.state_dict())
    for name, tensor in quantised.state_dict().items():
        assert torch.equal(restored[name], tensor), name
    # the weights changed, the biases and batch-norm statistics did not; the original is untouched
    assert not torch.equal(quantised[0].weight, net[0].weight)
    assert torch.equal(quantised[0].bias, net[0].bias) and torch.equal(quantised[1].running_var, net[1].running_var)
    fresh = small_net().eval()
    assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), net.state_dict().values()))
    x = torch.randn(2, 3, 8, 8)
    other = small_net().eval()
    other.load_state_dict(restored)
    with torch.no_grad():
        assert torch.equal(other(x), quantised(x))


def test_float32_bytes_load_back_unchanged():
    net = small_net()
    restored = compression.from_bytes(compression.to_bytes(net))
    assert all(torch.equal(restored[k], v) for k, v in net.state_dict().items())


def test_the_file_is_read_with_weights_only():
    class Evil:
        def __reduce__(self):
            return (print, ("unpickled",))

    buffer = io.BytesIO()
    torch.save({"x": Evil()}, buffer)
    with pytest.raises(Exception, match="[Ww]eights only|weights_only"):
        compression.from_bytes(buffer.getvalue())


def test_sizes_are_parameters_times_bits_over_8_plus_a_bounded_overhead():
    net = nn.Sequential(nn.Conv2d(64, 128, 3), nn.Conv2d(128, 128, 1))  # 90,240 weights, 256 channels
    weights = sum(p.numel() for p in net.parameters() if p.dim() >= 2)
    biases = sum(p.numel() for p in net.parameters() if p.dim() == 1)
    float_size = compression.serialized_size(net)
    assert 4 * (weights + biases) < float_size < 4 * (weights + biases) + 4096
    for bits in range(1, 9):
        size = compression.serialized_size(net, bits)
        payload = math.ceil(weights * bits / 8) + 4 * biases + 2 * 4 * 256  # codes, float biases, minimum and scale
        assert payload < size < payload + 8192, (bits, size, payload)
    assert compression.serialized_size(net, 8) < float_size / 3.5


def test_serialized_size_is_the_length_of_the_saved_file():
    net = small_net()
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    assert compression.serialized_size(net) == len(buffer.getvalue())
    assert compression.serialized_size(net.state_dict(), 4) == len(compression.to_bytes(net, 4))


def test_a_view_is_saved_without_its_base():
    big = torch.randn(1000, 100)
    state = {"w": big[:2]}  # a view of 100,000 values
    assert compression.serialized_size(state) < 4 * 1000 + 2048
