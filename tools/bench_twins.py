#!/usr/bin/env python3
"""Time every twin model of the book against torchvision's own, on the same input and threads.

A *twin* is a model registered under a name that torchvision's classification models also have
(``alexnet``, ``vgg16``, ``resnet50``, ``densenet121``, ...). For each, both models are built
with random weights (torchvision's with ``weights=None``), torchvision's state dict is copied into
ours, and the two are timed in alternation on one batch of random images: a forward pass in eval
mode without gradients, and a training step (forward in training mode, the sum of the outputs,
backward). Alternating, round by round, spreads the machine's changing load over both. The
table gives the median seconds of each and the ratio ours / torchvision's; the goal is no ratio
above ``--tolerance`` (1.05).

Usage:
    python tools/bench_twins.py [NAME ...] [--size 224] [--batch 2] [--repeats 5] [--threads N]

Exits with status 1 if a ratio is over the tolerance or a pair failed to build or run. A
benchmark, not a test: run it on an otherwise idle machine, and run it again before trusting
a ratio near the line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torchvision
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "code"))

from cnnzoo import models  # noqa: E402

#: Constructor settings that make our twin compute torchvision's function: torchvision's
#: bottleneck ResNets put the stride on the 3x3 convolution ("V1.5"); the book's default is the paper's.
TWIN_SETTINGS: dict[str, dict[str, object]] = {name: {"stride_on": "3x3"} for name in ("resnet50", "resnet101", "resnet152")}


def twin_names() -> list[str]:
    """The registered models that torchvision's classification models also name, sorted."""
    theirs = set(torchvision.models.list_models(module=torchvision.models))
    return [name for name in models.available() if name in theirs]


def build_pair(name: str) -> tuple[nn.Module, nn.Module]:
    """Our twin and torchvision's model, with the same (random) weights."""
    # GoogLeNet: torchvision warns unless told how to initialise; any random weights will do here.
    extra = {"init_weights": False} if name == "googlenet" else {}
    theirs = torchvision.models.get_model(name, weights=None, **extra)
    ours = models.build(name, **TWIN_SETTINGS.get(name, {}))
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _first(output: object) -> torch.Tensor:
    """The scores: the output itself, or the first item of a tuple (GoogLeNet's heads in training)."""
    return output[0] if isinstance(output, tuple) else output


@dataclass(frozen=True)
class PairTime:
    """Median seconds of each pass, ours and torchvision's."""

    forward: tuple[float, float]
    training: tuple[float, float]

    @property
    def forward_ratio(self) -> float:
        return self.forward[0] / self.forward[1]

    @property
    def training_ratio(self) -> float:
        return self.training[0] / self.training[1]


def time_pair(ours: nn.Module, theirs: nn.Module, input_size: tuple[int, ...], repeats: int = 5,
              warmup: int = 1) -> PairTime:
    """Median seconds of a forward pass and a training step of each model, timed in alternation.

    Args:
        ours, theirs: the two models, on the CPU.
        input_size: (batch, channels, height, width) of the random images both get.
        repeats: timed rounds; in each, both models run each pass once, in alternating order.
        warmup: untimed rounds first.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0; got {repeats!r}, {warmup!r}")
    x = torch.randn(input_size, generator=torch.Generator().manual_seed(0))

    def forward(model: nn.Module) -> float:
        model.eval()
        start = time.perf_counter()
        with torch.no_grad():
            model(x)
        return time.perf_counter() - start

    def training_step(model: nn.Module) -> float:
        model.train()
        start = time.perf_counter()
        _first(model(x)).sum().backward()
        seconds = time.perf_counter() - start
        model.zero_grad(set_to_none=True)
        return seconds

    times: dict[tuple[str, int], list[float]] = {(kind, i): [] for kind in ("forward", "training") for i in (0, 1)}
    pair = (ours, theirs)
    for round_ in range(warmup + repeats):
        order = (0, 1) if round_ % 2 == 0 else (1, 0)
        for kind, run in (("forward", forward), ("training", training_step)):
            for i in order:
                seconds = run(pair[i])
                if round_ >= warmup:
                    times[kind, i].append(seconds)
    median = {key: statistics.median(values) for key, values in times.items()}
    return PairTime(forward=(median["forward", 0], median["forward", 1]),
                    training=(median["training", 0], median["training", 1]))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="twins to time (default: every twin)")
    parser.add_argument("--size", type=int, default=224, help="image side (default: 224)")
    parser.add_argument("--batch", type=int, default=2, help="images per batch (default: 2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (default: 5)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads (default: torch's)")
    parser.add_argument("--tolerance", type=float, default=1.05, help="largest ratio allowed (default: 1.05)")
    args = parser.parse_args(argv)

    known = twin_names()
    unknown = [name for name in args.names if name not in known]
    if unknown:
        parser.error(f"not a twin: {', '.join(unknown)}; the twins are {', '.join(known)}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    input_size = (args.batch, 3, args.size, args.size)
    print(f"input {input_size}, {args.threads} thread(s), median of {args.repeats} alternating rounds; "
          f"ratio = ours / torchvision's, goal <= {args.tolerance:g}")
    width = max(len(name) for name in known)
    print(f"{'model':<{width}}  {'forward ms':>21}  {'ratio':>5}  {'training step ms':>21}  {'ratio':>5}  ok")
    failed = False
    for name in args.names or known:
        try:
            result = time_pair(*build_pair(name), input_size, repeats=args.repeats)
        except Exception as exc:  # noqa: BLE001 - reported in the table
            print(f"{name:<{width}}  FAILED: {type(exc).__name__}: {exc}", flush=True)
            failed = True
            continue
        ok = max(result.forward_ratio, result.training_ratio) <= args.tolerance
        failed |= not ok
        fwd = f"{result.forward[0] * 1e3:9.1f} / {result.forward[1] * 1e3:9.1f}"
        trn = f"{result.training[0] * 1e3:9.1f} / {result.training[1] * 1e3:9.1f}"
        print(f"{name:<{width}}  {fwd}  {result.forward_ratio:5.2f}  {trn}  {result.training_ratio:5.2f}  "
              f"{'yes' if ok else 'NO'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
