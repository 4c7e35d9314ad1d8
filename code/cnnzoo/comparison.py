"""Every ImageNet-scale model of the book side by side, measured the same way.

The comparison chapter (``chapters/comparison.ipynb``) puts the book's ImageNet networks in one
table, as the lecture's "comparing complexity" slides do (CS231n 2017, lecture 9, after
A. Canziani, A. Paszke and E. Culurciello, "An analysis of deep neural network models for
practical applications", arXiv:1605.07678, 2016). Every number but the accuracies is computed
here, from the model's own computation graph (:func:`cnnzoo.graph.trace`), at one input size:

    imagenet_models()          the registered models that take 3x224x224 (or 3x227x227) images
    weighted_depth(graph)      weighted layers (convolutions and linear layers) on the longest path
    profile(name, size=224)    one row: year, depth, parameters, multiply-adds, activation
                               memory per image, forward time at batch 1, cited accuracy
    profile_table(profiles)    the rows as an ``analysis.Table``
    accuracy(name)             the cited single-model top-1 / top-5 on ImageNet, with its source

What each column counts:

* **depth**: the number of ``nn.Conv2d`` and ``nn.Linear`` calls on the longest path from the
  input to the output of the eval-mode graph. Batch norm, pooling, activations, additions and
  concatenations are not weighted layers; a projection shortcut lies on a shorter path than the
  block it bypasses. This is how the papers name their networks: VGG-16 16, GoogLeNet 22,
  ResNet-50 50, AlexNet 8, DenseNet-121 121.
* **parameters**: the trainable parameters the eval-mode forward pass uses (GoogLeNet's
  auxiliary classifiers, used only in training, are left out, as torchvision's count does).
* **multiply-adds**: ``FlopCounterMode``'s FLOPs / 2 for one image (matrix products only; see
  :func:`cnnzoo.analysis.count_macs`).
* **activation memory per image**: the sum of the bytes of every tensor the forward pass
  newly produces at batch 1 in eval mode, float32 (``Node.output_bytes``, the column
  ``analysis.layer_table`` sums): every layer's and every function's output counted once, even if
  freed soon after; in-place operations (``ReLU(inplace=True)``) and views (``flatten``) add
  nothing; the input image is not counted. It is what the forward pass writes, an upper bound on
  the memory it holds at any one time, and it grows with the batch.
* **forward time**: seconds of one forward pass at batch 1 in eval mode without gradients, on
  the CPU and the threads ``torch`` has, the minimum of ``repeats`` passes. The trace that
  measures the other columns runs first and serves as the warm-up (the same layers on the same
  shapes). The weights are zeros (see :func:`build_for_profile`): dense kernels do the same
  work whatever the values.

Networks with a torchvision twin are profiled in the setting torchvision's published weights
need (ResNet-50/101/152 with the stride on the 3x3 convolution, "V1.5"), so that the multiply-adds
and the cited accuracy describe the same network.
"""

from __future__ import annotations

import functools
import itertools
import time
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

from . import models
from .analysis import Table
from .graph import ModelGraph, trace

__all__ = [
    "IMAGENET_SIZES",
    "TWIN_SETTINGS",
    "PAPERS",
    "PAPER_ACCURACY",
    "ILSVRC_WINNERS",
    "HUMAN_TOP5_ERROR",
    "Accuracy",
    "Profile",
    "imagenet_models",
    "paper_of",
    "accuracy",
    "build_for_profile",
    "weighted_depth",
    "profile",
    "profile_table",
]

#: The input sides of the ImageNet networks: 224 (most papers, torchvision) and 227 (AlexNet's 2012 paper).
IMAGENET_SIZES = (224, 227)

#: Builder settings the published torchvision weights need (as ``models.pretrained`` checks them).
TWIN_SETTINGS: dict[str, dict[str, object]] = {
    "resnet50": {"stride_on": "3x3"},
    "resnet101": {"stride_on": "3x3"},
    "resnet152": {"stride_on": "3x3"},
}

# The paper of each family: (name prefix, year the architecture was first published, BibTeX key).
# The year is that of the ILSVRC entry or the first arXiv version, whichever came first.
# The first matching prefix wins, so the specific names come before the general ones.
PAPERS: list[tuple[str, int, str]] = [
    ("alexnet_2012", 2012, "krizhevsky2012imagenet"),
    ("alexnet", 2014, "krizhevsky2014one"),          # torchvision's single tower: "One weird trick"
    ("zfnet", 2013, "zeiler2014visualizing"),         # ILSVRC 2013, arXiv Nov. 2013
    ("vgg", 2014, "simonyan2015very"),                # ILSVRC 2014, arXiv Sep. 2014
    ("googlenet", 2014, "szegedy2015going"),          # ILSVRC 2014
    ("plain", 2015, "he2016deep"),                    # ILSVRC 2015, arXiv Dec. 2015
    ("resnet", 2015, "he2016deep"),
    ("wide_resnet", 2016, "zagoruyko2016wide"),       # arXiv May 2016
    ("resnext", 2016, "xie2017aggregated"),           # ILSVRC 2016 (2nd), arXiv Nov. 2016
    ("densenet", 2016, "huang2017densely"),           # arXiv Aug. 2016
    ("squeezenet", 2016, "iandola2016squeezenet"),    # arXiv Feb. 2016
]


#: Cited single-model accuracies of the networks torchvision has no weights for: name ->
#: (top-1 %, top-5 %, source: BibTeX key, table, protocol), as 100 minus the printed error, on
#: the ILSVRC-2012 validation set (GoogLeNet's: ILSVRC-2014 validation). None where the paper
#: prints no such number (GoogLeNet's Table 3 gives top-5 only; ResNet's Table 2 gives top-1 only,
#: and its Table 3 adds the top-5 of plain-34 alone, so plain-18 has none).
PAPER_ACCURACY: dict[str, tuple[float | None, float | None, str]] = {
    "alexnet_2012": (100 - 40.7, 100 - 18.2,
                     "krizhevsky2012imagenet Table 2 (1 CNN, 10 crops)"),
    "zfnet": (100 - 38.4, 100 - 16.5,
              "zeiler2014visualizing Table 2 (1 convnet, Fig. 3)"),
    "googlenet_2014": (None, 100 - 10.07,
                       "szegedy2015going Table 3 (1 model, 1 crop)"),
    "vgg11_lrn": (100 - 29.7, 100 - 10.5,
                  "simonyan2015very Table 3 (A-LRN, dense, 256)"),
    "vgg16_c": (100 - 28.1, 100 - 9.4,
                "simonyan2015very Table 3 (C, dense, 256)"),
    "plain18": (100 - 27.94, None, "he2016deep Table 2 (10 crops)"),
    "plain34": (100 - 28.54, 100 - 10.02, "he2016deep Tables 2, 3 (10 crops)"),
}

#: ILSVRC classification winners: (year, entry, top-5 test error %, source), each cited to where it
#: is printed: 2010 in AlexNet's Sec. 6, 2011 and 2016 on the challenge's official results pages,
#: 2012 to 2014 in GoogLeNet's Table 2 (2012 also in AlexNet's Table 2), 2015 and 2017 in the
#: winners' abstracts. 2012 and 2013 are the winning teams' best entries without outside training
#: data, as szegedy2015going Table 2 lists them (with outside data: 15.3 and 11.2). The 2017 lecture
#: (2 May 2017) predates the 2017 results, which later editions of its slide add.
ILSVRC_WINNERS: list[tuple[int, str, float, str]] = [
    (2010, "NEC-UIUC", 28.2, "krizhevsky2012imagenet"),
    (2011, "XRCE", 25.8, "ilsvrc2011results"),
    (2012, "AlexNet (SuperVision)", 16.4, "krizhevsky2012imagenet"),
    (2013, "Clarifai (Zeiler)", 11.7, "szegedy2015going"),
    (2014, "GoogLeNet", 6.7, "szegedy2015going"),
    (2015, "ResNet", 3.57, "he2016deep"),
    (2016, "Trimps-Soushen", 2.99, "ilsvrc2016results"),
    (2017, "SENet", 2.25, "hu2018squeeze"),
]

#: Top-5 error of a trained human annotator on ILSVRC images (Russakovsky et al. 2015, Sec. 6.4).
HUMAN_TOP5_ERROR = (5.1, "russakovsky2015imagenet")


@dataclass(frozen=True)
class Accuracy:
    """Single-model ImageNet accuracy in percent (``None`` when not published) and where it is printed."""

    top1: float | None
    top5: float | None
    source: str


@dataclass(frozen=True)
class Profile:
    """One model's row of the comparison (see the module docstring for what each field counts)."""

    name: str
    year: int
    depth: int
    params: int
    macs: int
    activation_bytes: int | None   # None when profiled on the "meta" device (no memory to measure)
    forward_s: float | None        # None when not timed
    accuracy: Accuracy


def _spec(name: str):
    with torch.device("meta"):
        return models.build(name).input_spec


@functools.cache
def _imagenet_models() -> tuple[str, ...]:
    found = []
    for name in models.available():
        spec = _spec(name)
        if spec.channels == 3 and spec.size[0] == spec.size[1] and spec.size[0] in IMAGENET_SIZES:
            found.append(name)
    return tuple(found)


def imagenet_models() -> list[str]:
    """The registered models that take 3-channel images of side 224 or 227 (``input_spec.size``), sorted.

    Every registered model is built once on the "meta" device to read its ``input_spec`` (no
    weights are allocated); the list is kept for the rest of the session.
    """
    return list(_imagenet_models())


def _check_name(name: object) -> str:
    names = imagenet_models()
    if name not in names:
        raise ValueError(f"expected one of the ImageNet-scale models ({', '.join(names)}); got {name!r}")
    return name  # type: ignore[return-value]


def paper_of(name: str) -> tuple[int, str]:
    """(year, BibTeX key) of the paper that introduced the model ``name``.

    Raises:
        ValueError: if ``name`` is not an ImageNet-scale model of the registry.
    """
    _check_name(name)
    for prefix, year, key in PAPERS:
        if name.startswith(prefix):
            return year, key
    raise ValueError(f"no paper listed for {name!r}; add its family to comparison.PAPERS")


def accuracy(name: str) -> Accuracy:
    """The cited single-model ImageNet top-1 and top-5 accuracy (%) of ``name``.

    A torchvision twin's numbers are read from torchvision's installed weight metadata
    (``IMAGENET1K_V1``: the first published weights, single 224 crop after resizing to 256,
    ImageNet validation set), which is torchvision's documentation; the others come from
    :data:`PAPER_ACCURACY` (the paper's table and protocol), or are ``None`` where nothing is
    published for that network.

    Raises:
        ValueError: if ``name`` is not an ImageNet-scale model of the registry.
    """
    _check_name(name)
    import torchvision

    if name in torchvision.models.list_models(module=torchvision.models):
        weights = torchvision.models.get_model_weights(name)["IMAGENET1K_V1"]
        metrics = weights.meta["_metrics"]["ImageNet-1K"]
        docs = " ".join(weights.meta.get("_docs", "").split())
        recipe = ", new training recipe" if "new training recipe" in docs else ""
        return Accuracy(metrics["acc@1"], metrics["acc@5"], f"torchvision IMAGENET1K_V1{recipe}")
    if name in PAPER_ACCURACY:
        return Accuracy(*PAPER_ACCURACY[name])
    return Accuracy(None, None, "—")


def build_for_profile(name: str, device: str | torch.device = "cpu") -> nn.Module:
    """The model ``name`` in eval mode, built cheaply: on "meta", then (off "meta") zero weights.

    A default initialisation of 100 million weights takes seconds; ``to_empty`` plus zeros takes
    a fraction of that, and none of the profile's numbers depends on the values. A twin gets the
    settings of :data:`TWIN_SETTINGS`.

    Args:
        name: an ImageNet-scale model (:func:`imagenet_models`).
        device: "meta" (shapes only: no memory, nothing timed) or a real device.
    """
    _check_name(name)
    with torch.device("meta"):
        model = models.build(name, **TWIN_SETTINGS.get(name, {}))
    if torch.device(device).type != "meta":
        model = model.to_empty(device=device)
        with torch.no_grad():
            for tensor in itertools.chain(model.parameters(), model.buffers()):
                tensor.zero_()
    return model.eval()


def weighted_depth(graph: ModelGraph) -> int:
    """Weighted layers (``nn.Conv2d`` and ``nn.Linear`` calls) on the longest input-to-output path of ``graph``.

    One pass over the nodes in the order they ran (every node after its inputs):
    ``depth(node) = max(depth(input) for its inputs) + (1 if node is a weighted layer)``.
    """
    if not isinstance(graph, ModelGraph):
        raise ValueError(f"expected a cnnzoo.graph.ModelGraph (graph.trace(model, size)); got {type(graph).__name__}")
    depth: dict[str, int] = {}
    for node in graph.nodes:
        before = max((depth[name] for name in node.inputs if name in depth), default=0)
        weighted = node.op == "module" and isinstance(node.module, (nn.Conv2d, nn.Linear))
        depth[node.name] = before + int(weighted)
    return depth[graph.output.name]


def profile(name: str, size: int = 224, repeats: int = 1, device: str | torch.device = "cpu",
            timed: bool = True) -> Profile:
    """Measure the model ``name`` on one ``3 x size x size`` image (see the module docstring).

    Args:
        name: an ImageNet-scale model (:func:`imagenet_models`).
        size: the input's side, the same for every model of a comparison.
        repeats: timed forward passes (the minimum is kept), after the trace's pass.
        device: "cpu" (or another real device), or "meta" for the counts only (no activation
            memory, no time: quick, for tests).
        timed: whether to time the forward pass (never on "meta").
    """
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise ValueError(f"repeats must be a positive int; got {repeats!r}")
    meta = torch.device(device).type == "meta"
    model = build_for_profile(name, device)
    smallest = model.input_spec.min_size or model.input_spec.size[0]
    if not isinstance(size, int) or isinstance(size, bool) or size < smallest:
        raise ValueError(f"size must be an int of at least {smallest} for {name}; got {size!r}")
    graph = trace(model, (1, 3, size, size))
    forward_s = None
    if timed and not meta:
        x = torch.randn(1, 3, size, size, device=device)
        seconds = []
        with torch.inference_mode():
            for _ in range(repeats):
                if x.device.type == "cuda":
                    torch.cuda.synchronize(x.device)
                start = time.perf_counter()
                model(x)
                if x.device.type == "cuda":
                    torch.cuda.synchronize(x.device)
                seconds.append(time.perf_counter() - start)
        forward_s = min(seconds)
    return Profile(
        name=name,
        year=paper_of(name)[0],
        depth=weighted_depth(graph),
        params=sum(node.params for node in graph.nodes),
        macs=sum(node.macs for node in graph.nodes),
        activation_bytes=None if meta else sum(node.output_bytes for node in graph.nodes if node.op != "input"),
        forward_s=forward_s,
        accuracy=accuracy(name),
    )


def profile_table(profiles: Sequence[Profile], title: str | None = None, times: bool = True,
                  accuracy: bool = True) -> Table:
    """The profiles as a table: millions of parameters, GMACs, MiB, milliseconds, accuracies and their source.

    Args:
        profiles: rows from :func:`profile`.
        title: the table's title.
        times: show the forward-time column (leave it out where the table must not change from run to run).
        accuracy: show the cited top-1, top-5 and their source (leave them out for a narrower table).
    """
    def shown(value: float | None, text: str) -> str:
        return "—" if value is None else text

    rows = []
    for p in profiles:
        row = [p.name, str(p.year), p.depth, f"{p.params / 1e6:.1f}", f"{p.macs / 1e9:.2f}",
               shown(p.activation_bytes, f"{(p.activation_bytes or 0) / 2**20:.1f}")]
        if times:
            row.append(shown(p.forward_s, f"{1000 * (p.forward_s or 0):.0f}"))
        if accuracy:
            row += [shown(p.accuracy.top1, f"{p.accuracy.top1 or 0:.1f}"),
                    shown(p.accuracy.top5, f"{p.accuracy.top5 or 0:.1f}"), p.accuracy.source]
        rows.append(row)
    headers = ["model", "year", "depth", "params (M)", "GMACs", "activations (MiB)",
               *(["forward (ms)"] if times else []), *(["top-1 %", "top-5 %", "accuracy from"] if accuracy else [])]
    return Table(headers, rows, title=title)
