"""Model compression by weight quantisation, and the real size of a saved model.

SqueezeNet's "<0.5 MB" (Iandola et al., 2016, Table 2) is SqueezeNet's 1.2 M parameters stored
with fewer bits per weight by Deep Compression (Han, Mao and Dally, ICLR 2016): pruning, then
*trained quantisation with weight sharing* (each layer's weights replaced by the nearest of
2^b shared values, a k-means codebook, so that a weight is stored as a b-bit index), then
Huffman coding of the indices. This module does the middle step's storage part in its
simplest form, so that the chapter can measure what bits alone buy:

*Linear (affine) quantisation, per output channel.* Each output channel's weights (a row of
the weight tensor reshaped to (out_channels, -1)) are mapped to the 2^b evenly spaced levels
between the row's minimum and maximum:

    scale = (max - min) / (2^b - 1),   code = round((w - min) / scale) in 0 .. 2^b - 1,
    w' = min + code * scale,           so |w - w'| <= scale / 2.

A row of equal values has scale 0 and is restored exactly. The levels are evenly spaced, not
learned as Deep Compression's are, and there is no pruning and no Huffman coding: these are
the differences the chapter names when its sizes differ from the paper's.

Storage: the codes of a tensor are packed into a stream of bits (b bits each, least
significant bit first, eight to a byte) in a ``uint8`` tensor, saved with ``torch.save``
together with each channel's float32 minimum and scale. Only weights (tensors with two or more
dimensions) are quantised; biases and other 1-D tensors stay float32, as in Deep Compression.
``serialized_size`` measures the bytes ``torch.save`` really writes, and ``from_bytes``
(``torch.load(..., weights_only=True)``) restores the dequantised weights exactly.

    >>> import torch
    >>> from cnnzoo import compression
    >>> w = torch.tensor([[0.0, 0.1, 0.3], [1.0, 1.0, 1.0]])
    >>> q = compression.quantize_tensor(w, bits=2)
    >>> q.codes.tolist()
    [[0, 1, 3], [0, 0, 0]]
"""

from __future__ import annotations

import copy
import io
import numbers
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

__all__ = [
    "Quantized",
    "quantize_tensor",
    "dequantize",
    "quantize_model",
    "pack_bits",
    "unpack_bits",
    "compress_state",
    "decompress_state",
    "to_bytes",
    "from_bytes",
    "serialized_size",
]


def _check_bits(bits: Any) -> None:
    if not isinstance(bits, numbers.Integral) or isinstance(bits, bool) or not 1 <= bits <= 8:
        raise ValueError(f"bits must be an int in 1..8; got {bits!r}")


def _check_float_tensor(w: Any, name: str = "w") -> None:
    if not isinstance(w, torch.Tensor) or not w.is_floating_point():
        got = f"a {w.dtype} tensor" if isinstance(w, torch.Tensor) else type(w).__name__
        raise ValueError(f"{name} must be a floating-point tensor; got {got}")
    if w.numel() == 0:
        raise ValueError(f"{name} must have at least one value; got shape {tuple(w.shape)}")


@dataclass(frozen=True)
class Quantized:
    """A tensor quantised per output channel: ``w' = minimum[c] + codes * scale[c]`` in row c.

    Args:
        codes: the tensor's shape, int64 values in 0 .. 2**bits - 1.
        minimum: (channels,) float32, each row's smallest value.
        scale: (channels,) float32, each row's step between levels (0 for a constant row).
        bits: b, the bits of one code.
    """

    codes: torch.Tensor
    minimum: torch.Tensor
    scale: torch.Tensor
    bits: int


def _rows(w: torch.Tensor) -> torch.Tensor:
    """The tensor as (channels, values): one row per output channel (one row for a 0-D or 1-D tensor)."""
    return w.reshape(w.shape[0], -1) if w.dim() >= 2 else w.reshape(1, -1)


def quantize_tensor(w: torch.Tensor, bits: int) -> Quantized:
    """Linear quantisation of ``w`` to ``bits`` bits, one minimum and scale per output channel.

    Args:
        w: a floating-point tensor; its first dimension is the output channels when it has two
            or more dimensions (a 1-D tensor is one channel).
        bits: b in 1..8: each value becomes one of 2**b levels.
    """
    _check_bits(bits)
    _check_float_tensor(w)
    rows = _rows(w.detach().float())
    minimum = rows.min(dim=1).values
    scale = (rows.max(dim=1).values - minimum) / (2 ** bits - 1)
    step = torch.where(scale > 0, scale, torch.ones_like(scale))  # a constant row: every code 0
    codes = torch.round((rows - minimum[:, None]) / step[:, None]).clamp(0, 2 ** bits - 1).long()
    return Quantized(codes.reshape(w.shape), minimum, scale, bits)


def dequantize(q: Quantized) -> torch.Tensor:
    """The float32 values the codes stand for: ``minimum + codes * scale``, row by row.

    Args:
        q: the result of :func:`quantize_tensor`.
    """
    rows = _rows(q.codes).float()
    return (q.minimum[:, None] + rows * q.scale[:, None]).reshape(q.codes.shape)


def _quantizable(name: str, tensor: torch.Tensor) -> bool:
    """Weights are quantised (two or more dimensions, floating point); biases and buffers are not."""
    return tensor.is_floating_point() and tensor.dim() >= 2


def quantize_model(model: nn.Module, bits: int) -> nn.Module:
    """A copy of ``model`` whose weights are replaced by their ``bits``-bit quantised values.

    The copy computes what the compressed file would compute after loading; ``model`` is not
    changed. Biases and batch-norm tensors are kept as they are.

    Args:
        model: any module.
        bits: b in 1..8.
    """
    _check_bits(bits)
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    copied = copy.deepcopy(model)
    state = copied.state_dict()
    with torch.no_grad():
        for name, tensor in state.items():
            if _quantizable(name, tensor):
                tensor.copy_(dequantize(quantize_tensor(tensor, bits)))
    return copied


def pack_bits(codes: torch.Tensor, bits: int) -> torch.Tensor:
    """The codes as one stream of ``bits`` bits each, eight bits to a byte (``uint8``).

    Code i occupies bits i*b ... i*b + b - 1 of the stream, least significant first; the last
    byte is padded with zeros. n codes take ceil(n * b / 8) bytes.

    Args:
        codes: integers in 0 .. 2**bits - 1, any shape (read flat).
        bits: b in 1..8.
    """
    _check_bits(bits)
    if not isinstance(codes, torch.Tensor) or codes.is_floating_point() or codes.dtype == torch.bool:
        raise ValueError(f"codes must be an integer tensor; got {getattr(codes, 'dtype', type(codes).__name__)}")
    flat = codes.reshape(-1).long()
    if flat.numel() and (flat.min() < 0 or flat.max() >= 2 ** bits):
        raise ValueError(f"codes must be in 0..{2 ** bits - 1} for {bits} bits; got {flat.min()}..{flat.max()}")
    stream = (flat[:, None] >> torch.arange(bits)) & 1            # (n, b): each code's bits
    stream = stream.reshape(-1)
    stream = torch.cat([stream, stream.new_zeros(-len(stream) % 8)])  # pad to whole bytes
    return (stream.reshape(-1, 8) << torch.arange(8)).sum(1).to(torch.uint8)


def unpack_bits(packed: torch.Tensor, bits: int, count: int) -> torch.Tensor:
    """The first ``count`` codes of a stream written by :func:`pack_bits`, as int64.

    Args:
        packed: the ``uint8`` stream.
        bits: b in 1..8, as packed.
        count: the number of codes.
    """
    _check_bits(bits)
    if not isinstance(packed, torch.Tensor) or packed.dtype != torch.uint8:
        raise ValueError(f"packed must be a uint8 tensor; got {getattr(packed, 'dtype', type(packed).__name__)}")
    if count < 0 or count * bits > 8 * packed.numel():
        raise ValueError(f"count must be in 0..{8 * packed.numel() // bits} for {packed.numel()} bytes; got {count}")
    stream = ((packed.long()[:, None] >> torch.arange(8)) & 1).reshape(-1)[: count * bits]
    return (stream.reshape(count, bits) << torch.arange(bits)).sum(1)


def compress_state(state: dict[str, torch.Tensor], bits: int) -> dict[str, Any]:
    """A state dict with each weight replaced by its packed ``bits``-bit codes, minima and scales.

    A quantised entry becomes ``{"codes": uint8 stream, "minimum": float32, "scale": float32,
    "bits": b, "shape": [...]}``; every other tensor is kept (copied, so that saving it does
    not save a larger storage it is a view of). ``torch.save`` writes the result;
    :func:`decompress_state` reverses it.

    Args:
        state: a model's ``state_dict()``.
        bits: b in 1..8.
    """
    _check_bits(bits)
    compressed: dict[str, Any] = {}
    for name, tensor in state.items():
        if _quantizable(name, tensor):
            q = quantize_tensor(tensor, bits)
            compressed[name] = {"codes": pack_bits(q.codes, bits), "minimum": q.minimum.clone(),
                                "scale": q.scale.clone(), "bits": bits, "shape": list(tensor.shape)}
        else:
            compressed[name] = tensor.detach().clone()
    return compressed


def decompress_state(compressed: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The state dict a compressed one stands for: dequantised float32 weights, the rest as saved.

    Args:
        compressed: the result of :func:`compress_state` (or of loading its saved bytes).
    """
    state = {}
    for name, entry in compressed.items():
        if isinstance(entry, dict):
            shape = torch.Size(entry["shape"])
            codes = unpack_bits(entry["codes"], entry["bits"], shape.numel()).reshape(shape)
            state[name] = dequantize(Quantized(codes, entry["minimum"], entry["scale"], entry["bits"]))
        else:
            state[name] = entry
    return state


def _state(model_or_state: nn.Module | dict) -> dict[str, torch.Tensor]:
    if isinstance(model_or_state, nn.Module):
        return model_or_state.state_dict()
    if isinstance(model_or_state, dict):
        return model_or_state
    raise ValueError(f"expected an nn.Module or a state dict; got {type(model_or_state).__name__}")


def to_bytes(model_or_state: nn.Module | dict, bits: int | None = None) -> bytes:
    """The file ``torch.save`` writes for the model: float32 as it is (``bits=None``) or compressed.

    Args:
        model_or_state: a module or its state dict.
        bits: None for the plain state dict, or b in 1..8 for :func:`compress_state`'s.
    """
    state = _state(model_or_state)
    if bits is not None:
        state = compress_state(state, bits)
    elif any(tensor.untyped_storage().nbytes() != tensor.nbytes for tensor in state.values()):
        state = {name: tensor.detach().clone() for name, tensor in state.items()}  # views: not their bases
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def from_bytes(data: bytes) -> dict[str, torch.Tensor]:
    """The state dict in bytes written by :func:`to_bytes` (compressed or not), loaded safely.

    Args:
        data: the file's bytes; unpickled with ``weights_only=True`` (tensors and plain containers only).
    """
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError(f"data must be bytes; got {type(data).__name__}")
    return decompress_state(torch.load(io.BytesIO(data), weights_only=True))


def serialized_size(model_or_state: nn.Module | dict, bits: int | None = None) -> int:
    """The bytes of the file :func:`to_bytes` writes: the real size on disk, headers included.

    Args:
        model_or_state: a module or its state dict.
        bits: None for float32, or b in 1..8.
    """
    return len(to_bytes(model_or_state, bits))
