"""Self-checks for the exercises: a right answer shows "✓ ...", a wrong one raises.

A check returns a :class:`CheckResult` when the answer is right; in a notebook it shows as
one line, "✓ Correct: ...". On a wrong answer it raises :class:`CheckFailed`, an
``AssertionError`` whose message is one readable line, "✗ ...", saying what is wrong and
never what the right value is. Raising is what makes an autograder (nbgrader, pytest)
score the cell zero.

The general checks live in ``_core``; each chapter's checks in a module of its own
(``lenet``, ``alexnet``, ``vgg``, ``googlenet``, ``resnet``, ``resnet_family``, ``nin``, ...), all importable from here: ``from cnnzoo import exercises;
exercises.check_conv_output_size(...)``.
"""

from ._core import CheckFailed, CheckResult, check_function, check_model, check_value
from . import _core, alexnet, comparison, densenet, fractalnet, googlenet, lenet, nin, resnet, resnet_family, resnext, squeezenet, stochastic_depth, vgg, wide_resnet
from .alexnet import *  # noqa: F401,F403  (each chapter module lists its checks in __all__)
from .comparison import *  # noqa: F401,F403
from .densenet import *  # noqa: F401,F403
from .fractalnet import *  # noqa: F401,F403
from .googlenet import *  # noqa: F401,F403
from .lenet import CONV_SETTINGS, check_c3_parameters, check_conv_output_size, check_lenet5_for_28x28
from .nin import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
from .resnet_family import *  # noqa: F401,F403
from .resnext import *  # noqa: F401,F403
from .squeezenet import *  # noqa: F401,F403
from .stochastic_depth import *  # noqa: F401,F403
from .vgg import *  # noqa: F401,F403
from .wide_resnet import *  # noqa: F401,F403

__all__ = [
    *_core.__all__,
    "CONV_SETTINGS",
    "check_conv_output_size",
    "check_c3_parameters",
    "check_lenet5_for_28x28",
    *alexnet.__all__,
    *vgg.__all__,
    *googlenet.__all__,
    *nin.__all__,
    *resnet.__all__,
    *resnet_family.__all__,
    *wide_resnet.__all__,
    *resnext.__all__,
    *stochastic_depth.__all__,
    *fractalnet.__all__,
    *densenet.__all__,
    *squeezenet.__all__,
    *comparison.__all__,
]
