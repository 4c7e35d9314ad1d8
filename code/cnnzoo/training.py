"""A small training loop for the chapters: fit, evaluate, predict, and plot the history.

One epoch is one pass over the training data: for each batch, compute the loss, its
gradient by backpropagation, and take one optimizer step. After each epoch the model is
evaluated on the test data (if given) and one plain line of progress is printed, which
reads the same in a terminal, in a notebook and in a stored notebook output.

A model may return auxiliary outputs in training mode, as GoogLeNet's auxiliary classifiers
do (torchvision's ``googlenet`` returns ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``,
``inception_v3`` returns ``InceptionOutputs(logits, aux_logits)``): when the output is a
tuple or list of tensors, the first is the main output and the others are auxiliary.
"""

from __future__ import annotations

import math
import numbers
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from torch import nn

from ._forward import model_device

__all__ = [
    "AUX_WEIGHT", "pick_device", "seed_everything", "History", "split_outputs", "evaluate", "fit", "predict",
    "plot_history",
]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

# Szegedy et al. 2015, "Going deeper with convolutions", Sec. 5: during training the losses
# of GoogLeNet's auxiliary classifiers are added to the total loss with a weight of 0.3.
AUX_WEIGHT = 0.3


# --------------------------------------------------------------------------- set-up


def pick_device() -> torch.device:
    """The fastest device present: a CUDA GPU, then an Apple-silicon GPU (MPS), then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0) -> None:
    """Seed Python's ``random``, NumPy and PyTorch (CPU and CUDA), and make cuDNN deterministic.

    This makes quick-mode CPU runs repeatable: the same numbers on the same machine with
    the same number of threads. Other hardware or thread counts may round differently.

    Args:
        seed: the seed for every generator.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # the CPU generator, and every CUDA device's
    torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


# --------------------------------------------------------------------------- history


@dataclass
class History:
    """What ``fit`` measured, one entry per epoch.

    Accuracies are fractions in [0, 1]. The test lists stay empty when ``fit`` had no
    test loader. ``train_loss`` is the loss that was minimised: for a model with auxiliary
    outputs it includes their weighted losses, while ``test_loss`` and both accuracies use
    the main output only.
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """The number of epochs recorded."""
        return len(self.train_loss)

    @property
    def best_test_acc(self) -> float:
        """The highest test accuracy of any epoch."""
        self._check_test()
        return max(self.test_acc)

    @property
    def final_test_acc(self) -> float:
        """The test accuracy after the last epoch."""
        self._check_test()
        return self.test_acc[-1]

    def _check_test(self) -> None:
        if not self.test_acc:
            raise ValueError("this history has no test accuracy; pass test_loader= to fit")


# --------------------------------------------------------------------------- helpers


def split_outputs(outputs: object) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The main output and the auxiliary outputs of one forward pass.

    A tensor is the main output with no auxiliary ones. A tuple or list (a namedtuple such
    as torchvision's ``GoogLeNetOutputs`` included) holds the main output first and the
    auxiliary outputs after it; an auxiliary entry that is ``None`` (a TorchScript'd
    GoogLeNet returns them so) is left out.

    Args:
        outputs: what the model returned.
    """
    if isinstance(outputs, torch.Tensor):
        return outputs, []
    if isinstance(outputs, (tuple, list)) and outputs and isinstance(outputs[0], torch.Tensor):
        auxiliary = [output for output in outputs[1:] if output is not None]
        if all(isinstance(output, torch.Tensor) for output in auxiliary):
            return outputs[0], auxiliary
    raise ValueError(
        "the model must return a tensor of scores, or a tuple or list of tensors with the main "
        f"scores first; got {type(outputs).__name__}"
    )


def _check_not_empty(loader: Iterable, name: str) -> None:
    if hasattr(loader, "__len__") and len(loader) == 0:
        raise ValueError(f"{name} must yield at least one batch; got an empty loader")


def _format_epoch(epoch: int, epochs: int, history: History) -> str:
    """One line of progress, e.g. ``epoch  3/10  train loss 0.1234  acc 96.5%  |  0.8 s``."""
    width = len(str(epochs))
    line = (f"epoch {epoch:{width}d}/{epochs}  "
            f"train loss {history.train_loss[-1]:.4f}  acc {100 * history.train_acc[-1]:.1f}%")
    if history.test_acc:
        line += f"  |  test loss {history.test_loss[-1]:.4f}  acc {100 * history.test_acc[-1]:.1f}%"
    return line + f"  |  {history.seconds[-1]:.1f} s"


# --------------------------------------------------------------------------- loops


def evaluate(
    model: nn.Module,
    loader: Iterable,
    *,
    device: torch.device | str | None = None,
    loss_fn: LossFn | None = None,
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` over ``loader``, in eval mode, without gradients.

    Args:
        model: the network; its train/eval mode is restored afterwards. If it returns a
            tuple, the first element is scored.
        loader: batches of (images, labels).
        device: where to compute; by default, where the model's parameters are.
        loss_fn: a loss that averages over the batch; cross-entropy by default.

    Returns:
        ``(mean loss per example, accuracy in [0, 1])``.
    """
    _check_not_empty(loader, "loader")
    loss_fn = loss_fn or F.cross_entropy
    device = torch.device(device) if device is not None else model_device(model)
    model.to(device)
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    try:
        with torch.no_grad():
            for images, labels in loader:
                images, labels = images.to(device), labels.to(device)
                scores, _ = split_outputs(model(images))
                total_loss += loss_fn(scores, labels).item() * len(labels)
                correct += (scores.argmax(dim=1) == labels).sum().item()
                count += len(labels)
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("loader must yield at least one batch; got none")
    return total_loss / count, correct / count


def fit(
    model: nn.Module,
    train_loader: Iterable,
    *,
    epochs: int,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    test_loader: Iterable | None = None,
    device: torch.device | str | None = None,
    loss_fn: LossFn | None = None,
    schedule: str = "constant",
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    aux_weight: float = AUX_WEIGHT,
    log: Callable[[str], object] | None = print,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_loader``; evaluate after each.

    Args:
        model: the network; it is moved to ``device`` and left there, in train mode. In
            training it may return a tuple (main output, auxiliary outputs...).
        train_loader: batches of (images, labels), usually shuffled.
        epochs: the number of passes over the training data.
        lr: the learning rate of the default optimizer, Adam (Kingma and Ba, 2015).
        optimizer: an optimizer over ``model.parameters()``, instead of Adam(lr).
        test_loader: batches to evaluate on after each epoch, if any.
        device: where to train; ``pick_device()`` by default.
        loss_fn: a loss that averages over the batch; cross-entropy by default.
        schedule: ``"constant"`` keeps the learning rate; ``"cosine"`` lowers it after each
            epoch along half a cosine, from ``lr`` towards 0 (Loshchilov and Hutter, SGDR,
            2017), a smooth form of the step-wise decrease LeCun et al. (1998) used.
        scheduler: a learning-rate scheduler over ``optimizer``, stepped after every batch
            (one training iteration), for schedules counted in iterations, such as He et al.'s
            (2016, Sec. 4.2) division by 10 at 32k and 48k iterations (``MultiStepLR``);
            only with ``schedule="constant"`` and an ``optimizer`` of your own.
        aux_weight: the weight of each auxiliary output's loss when the model returns a
            tuple: loss = loss(main) + aux_weight * sum(loss(aux)). The default, 0.3, is
            GoogLeNet's (Szegedy et al. 2015, Sec. 5). Accuracy uses the main output.
        log: called with one line of progress per epoch (``print`` by default);
            ``None`` trains silently.

    Returns:
        A ``History`` with each epoch's losses, accuracies and seconds.
    """
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer; got {epochs!r}")
    if not isinstance(lr, numbers.Real) or isinstance(lr, bool) or not lr > 0:
        raise ValueError(f"lr must be a positive number; got {lr!r}")
    if not isinstance(aux_weight, numbers.Real) or isinstance(aux_weight, bool) or not 0 <= aux_weight < math.inf:
        raise ValueError(f"aux_weight must be a finite number >= 0; got {aux_weight!r}")
    _check_not_empty(train_loader, "train_loader")
    if test_loader is not None:
        _check_not_empty(test_loader, "test_loader")
    loss_fn = loss_fn or F.cross_entropy
    device = torch.device(device) if device is not None else pick_device()
    model.to(device)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    if schedule not in ("constant", "cosine"):
        raise ValueError(f"schedule must be 'constant' or 'cosine'; got {schedule!r}")
    if scheduler is not None:
        if schedule != "constant":
            raise ValueError(f"give either schedule={schedule!r} or a scheduler, not both")
        if getattr(scheduler, "optimizer", None) is not optimizer:
            raise ValueError("scheduler must schedule the optimizer passed to fit (optimizer=...); got another one")
    epoch_scheduler = (
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs) if schedule == "cosine" else None
    )

    history = History()
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.train()
        total_loss, correct, count = 0.0, 0, 0
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            scores, auxiliary = split_outputs(model(images))
            loss = loss_fn(scores, labels)
            for aux_scores in auxiliary:
                loss = loss + aux_weight * loss_fn(aux_scores, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()  # one step per iteration
            total_loss += loss.item() * len(labels)
            correct += (scores.argmax(dim=1) == labels).sum().item()
            count += len(labels)
        if count == 0:
            raise ValueError("train_loader must yield at least one batch; got none")
        if epoch_scheduler is not None:
            epoch_scheduler.step()
        history.train_loss.append(total_loss / count)
        history.train_acc.append(correct / count)
        if test_loader is not None:
            test_loss, test_acc = evaluate(model, test_loader, device=device, loss_fn=loss_fn)
            history.test_loss.append(test_loss)
            history.test_acc.append(test_acc)
        history.seconds.append(time.perf_counter() - start)
        if log is not None:
            log(_format_epoch(epoch, epochs, history))
    return history


def predict(
    model: nn.Module, loader: Iterable, *, device: torch.device | str | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted and true labels for every example of ``loader``, e.g. to show the mistakes.

    Args:
        model: the network; its train/eval mode is restored afterwards. If it returns a
            tuple, the first element is the prediction.
        loader: batches of (images, labels), in a fixed order (not shuffled) to match the dataset.
        device: where to compute; by default, where the model's parameters are.

    Returns:
        ``(predicted, true)``: two int64 CPU tensors of shape (N,).
        ``(predicted != true).nonzero()`` indexes the misclassified examples.
    """
    _check_not_empty(loader, "loader")
    device = torch.device(device) if device is not None else model_device(model)
    model.to(device)
    was_training = model.training
    model.eval()
    predicted, true = [], []
    try:
        with torch.no_grad():
            for images, labels in loader:
                scores, _ = split_outputs(model(images.to(device)))
                predicted.append(scores.argmax(dim=1).cpu())
                true.append(labels.cpu())
    finally:
        model.train(was_training)
    if not predicted:
        raise ValueError("loader must yield at least one batch; got none")
    return torch.cat(predicted), torch.cat(true)


# --------------------------------------------------------------------------- plots


def plot_history(history: History, *, title: str | None = None) -> Figure:
    """Loss (left) and accuracy (right) per epoch, training against test.

    The figure is a plain ``matplotlib.figure.Figure``, not one of pyplot's: a notebook shows
    it when it is the cell's last expression (exactly once); a script saves it with
    ``fig.savefig(path)``.

    Args:
        history: what ``fit`` returned.
        title: a title above both panels.

    Returns:
        The matplotlib ``Figure``, with two axes.
    """
    if history.epochs == 0:
        raise ValueError("history has no epochs to plot; got an empty History")
    epochs = range(1, history.epochs + 1)
    fig = Figure(figsize=(9, 3.5), layout="constrained")  # not pyplot's: shown once, as the cell's result
    loss_ax, acc_ax = fig.subplots(1, 2)

    loss_ax.plot(epochs, history.train_loss, marker="o", label="train")
    acc_ax.plot(epochs, [100 * a for a in history.train_acc], marker="o", label="train")
    if history.test_acc:
        loss_ax.plot(epochs, history.test_loss, marker="s", label="test")
        acc_ax.plot(epochs, [100 * a for a in history.test_acc], marker="s", label="test")

    loss_ax.set(xlabel="epoch", ylabel="loss", title="Loss")
    acc_ax.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    for ax in (loss_ax, acc_ax):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs only
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig
