"""Tests for cnnzoo.diagrams: the graph read off a model, and the figure drawn from it."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.path import Path  # noqa: E402
from torch import nn  # noqa: E402

from cnnzoo.diagrams import Graph, Node, describe, draw, draw_graph, graph_from_model  # noqa: E402
from cnnzoo.models import build  # noqa: E402

LENET_NAMES = ["input", "c1", "s2", "c3", "s4", "c5", "f6", "output"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class Inception(nn.Module):
    """A GoogLeNet-like block: four parallel branches, concatenated."""

    def __init__(self) -> None:
        super().__init__()
        self.branch1 = nn.Conv2d(3, 64, 1)
        self.branch2 = nn.Conv2d(3, 128, 3, padding=1)
        self.branch3 = nn.Conv2d(3, 32, 5, padding=2)
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(3, 32, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return torch.cat(branches, dim=1)

    def diagram_nodes(self):
        branches = ["branch1", "branch2", "branch3", "branch4"]
        return [(name, ("input",)) for name in branches] + [("concat:join", tuple(branches))]


class Residual(nn.Module):
    """A ResNet-like block: conv -> ReLU -> conv, plus the input, then ReLU (run twice)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv2(self.relu(self.conv1(x))) + x)

    def diagram_nodes(self):
        return [
            ("conv1", ("input",)),
            ("relu", ("conv1",)),
            ("conv2", ("relu",)),
            ("add:shortcut", ("conv2", "input")),
            ("relu#2", ("shortcut",)),
        ]


def _patches(fig: Figure) -> dict:
    return {patch.get_gid(): patch for patch in fig.axes[0].patches}


def _arrows(fig: Figure) -> dict:
    return {text.get_gid(): text for text in fig.axes[0].texts if text.get_gid() and "->" in text.get_gid()}


# --------------------------------------------------------------------------- graphs


def test_lenet5_graph_is_a_chain_with_the_papers_shapes():
    graph = graph_from_model(build("lenet5"), (1, 1, 32, 32))
    nodes = {node.name: node for node in graph.nodes}
    assert [node.name for node in graph.nodes] == LENET_NAMES
    assert all(node.inputs == (previous,) for previous, node in zip(LENET_NAMES, graph.nodes[1:]))
    assert "6@28×28" in nodes["c1"].text and "5×5" in nodes["c1"].text
    assert nodes["c1"].text.startswith("c1\n") and nodes["c1"].kind == "conv"
    assert "max pool 2×2, /2" in nodes["s2"].text and "16@5×5" in nodes["s4"].text
    assert "120" in nodes["c5"].text and nodes["c5"].shape == (1, 120)
    assert nodes["input"].text == "input\n1@32×32"


def test_lenet5_1998_graph_uses_the_layers_own_labels():
    graph = graph_from_model(build("lenet5_1998"), (1, 1, 32, 32))
    nodes = {node.name: node for node in graph.nodes}
    assert [node.name for node in graph.nodes] == LENET_NAMES
    assert "trainable" in nodes["s2"].text and "6@14×14" in nodes["s2"].text
    assert "Table I" in nodes["c3"].text and "16@10×10" in nodes["c3"].text
    assert "120" in nodes["c5"].text
    assert "RBF 10" in nodes["output"].text


def test_sequential_default_repeats_calls_and_leaves_out_unused_children():
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)
            self.relu = nn.ReLU()
            self.unused = nn.Linear(2, 2)
            self.dropout = nn.Dropout(0.5)

        def forward(self, x):
            return self.dropout(self.relu(self.conv(self.relu(self.conv(x)))))

    net = Net().train()
    graph = graph_from_model(net, (2, 3, 8, 8))
    assert [node.name for node in graph.nodes] == ["input", "conv", "relu", "conv#2", "relu#2", "dropout"]
    assert net.training  # put back as it was


def test_branches_concatenate_with_summed_channels():
    graph = graph_from_model(Inception(), (1, 3, 28, 28))
    nodes = {node.name: node for node in graph.nodes}
    assert [node.name for node in graph.nodes] == ["input", "branch1", "branch2", "branch3", "branch4", "join"]
    assert nodes["join"].kind == "concat"
    assert nodes["join"].inputs == ("branch1", "branch2", "branch3", "branch4")
    assert nodes["join"].shape == (1, 64 + 128 + 32 + 32, 28, 28)
    assert "256@28×28" in nodes["join"].text
    assert nodes["branch4"].kind == "block"  # a Sequential


def test_residual_adds_the_input():
    graph = graph_from_model(Residual(), (1, 8, 16, 16))
    nodes = {node.name: node for node in graph.nodes}
    assert [node.name for node in graph.nodes] == ["input", "conv1", "relu", "conv2", "shortcut", "relu#2"]
    assert nodes["shortcut"].kind == "add" and nodes["shortcut"].inputs == ("conv2", "input")
    assert nodes["shortcut"].shape == (1, 8, 16, 16)
    assert nodes["relu#2"].kind == "act"


def test_describe():
    assert describe(nn.Conv2d(3, 6, 5)) == ("conv", "conv 5×5, 6")
    assert describe(nn.Conv2d(3, 64, 7, stride=2, padding=3)) == ("conv", "conv 7×7, 64, /2")
    assert describe(nn.MaxPool2d(2)) == ("pool", "max pool 2×2, /2")
    assert describe(nn.AvgPool2d(3, stride=1)) == ("pool", "avg pool 3×3")
    assert describe(nn.AdaptiveAvgPool2d(1)) == ("pool", "global avg pool")
    assert describe(nn.Linear(400, 120)) == ("fc", "fc 120")
    assert describe(nn.BatchNorm2d(6)) == ("norm", "batch norm")
    assert describe(nn.ReLU()) == ("act", "ReLU")
    assert describe(nn.Dropout(0.5)) == ("dropout", "dropout 0.5")
    assert describe(nn.Sequential(nn.ReLU())) == ("block", "Sequential")

    class Labelled(nn.Conv2d):
        def diagram_label(self):
            return "other", "mine"

    assert describe(Labelled(1, 1, 1)) == ("other", "mine")


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "nodes, message",
    [
        ([Node("input", "input", "x"), Node("input", "conv", "y", ("input",))], "two nodes"),
        ([Node("input", "input", "x"), Node("c1", "conv", "y", ("c0",))], "'c0'"),
        ([Node("input", "input", "x"), Node("c1", "conv", "y", ("c1",))], "'c1'"),
        ([Node("input", "input", "x"), Node("c1", "convolution", "y", ("input",))], "unknown kind"),
        ([Node("input", "input", "x"), Node("c1", "conv", "y", "input")], "tuple"),
        ([], "at least one"),
    ],
)
def test_bad_graphs_raise(nodes, message):
    with pytest.raises(ValueError, match=message):
        Graph(nodes)


def test_validate_catches_a_graph_changed_after_it_was_made():
    graph = Graph([Node("input", "input", "x")])
    graph.nodes.append(Node("input", "conv", "y"))
    with pytest.raises(ValueError, match="two nodes"):
        draw_graph(graph)


@pytest.mark.parametrize("input_size", [(32,), (1, 0, 32, 32), (1, 1, 32.0, 32), "1x32x32", None])
def test_bad_input_size_raises(input_size):
    with pytest.raises(ValueError, match="input_size"):
        graph_from_model(build("lenet5"), input_size)


def test_input_size_may_be_a_list_as_in_analysis():
    as_list = graph_from_model(build("lenet5"), [1, 1, 32, 32])
    assert [n.text for n in as_list.nodes] == [n.text for n in graph_from_model(build("lenet5"), (1, 1, 32, 32)).nodes]


def test_model_errors_propagate():
    with pytest.raises(ValueError, match="32x32"):
        graph_from_model(build("lenet5"), (1, 1, 28, 28))


def test_bad_direction_raises():
    graph = graph_from_model(build("lenet5"), (1, 1, 32, 32))
    with pytest.raises(ValueError, match="direction"):
        draw_graph(graph, direction="RL")
    with pytest.raises(ValueError, match="direction"):
        draw(build("lenet5"), (1, 1, 32, 32), direction="lr")


def test_bad_diagram_nodes_raise():
    class Bad(Residual):
        def __init__(self, entries) -> None:
            super().__init__()
            self.entries = entries

        def diagram_nodes(self):
            return self.entries

    with pytest.raises(ValueError, match="not a submodule"):
        graph_from_model(Bad([("conv9", ("input",))]), (1, 8, 4, 4))
    with pytest.raises(ValueError, match="add:"):
        graph_from_model(Bad([("conv1", ("input",)), ("sum:s", ("conv1", "input"))]), (1, 8, 4, 4))
    with pytest.raises(ValueError, match="'conv3'"):
        graph_from_model(Bad([("conv1", ("input",)), ("add:s", ("conv3", "input"))]), (1, 8, 4, 4))
    with pytest.raises(ValueError, match="two or more"):
        graph_from_model(Bad([("conv1", ("input",)), ("add:s", ("conv1",))]), (1, 8, 4, 4))
    with pytest.raises(ValueError, match="tuple"):
        graph_from_model(Bad([("conv1", "input")]), (1, 8, 4, 4))
    with pytest.raises(ValueError, match="never ran"):
        graph_from_model(Bad([("conv1", ("input",)), ("conv1#3", ("conv1",))]), (1, 8, 4, 4))


# --------------------------------------------------------------------------- drawing


@pytest.mark.parametrize("name", ["lenet5", "lenet5_1998"])
@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_lenet_figure_text_fits_and_boxes_do_not_overlap(name, direction, tmp_path):
    fig = draw(build(name), (1, 1, 32, 32), direction=direction, title=name)
    assert isinstance(fig, Figure)
    fig.savefig(tmp_path / f"{name}.png")
    renderer = FigureCanvasAgg(fig).get_renderer()  # the figures are not pyplot's: give them a canvas
    graph = graph_from_model(build(name), (1, 1, 32, 32))
    patches = _patches(fig)
    assert list(patches) == LENET_NAMES
    texts = {text.get_text(): text for text in fig.axes[0].texts}
    for node in graph.nodes:
        box = patches[node.name].get_window_extent(renderer)
        label = texts[node.text].get_window_extent(renderer)
        assert box.x0 < label.x0 and label.x1 < box.x1 and box.y0 < label.y0 and label.y1 < box.y1, node.name
    boxes = [patch.get_window_extent(renderer) for patch in patches.values()]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    # Layers follow the direction: left to right, or top to bottom.
    centres = [((b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2) for b in boxes]
    if direction == "LR":
        assert all(a[0] < b[0] and a[1] == pytest.approx(b[1]) for a, b in zip(centres, centres[1:]))
    else:
        assert all(a[1] > b[1] and a[0] == pytest.approx(b[0]) for a, b in zip(centres, centres[1:]))


def test_branches_share_a_layer_at_different_positions():
    fig = draw(Inception(), (1, 3, 28, 28))
    patches = _patches(fig)
    assert len(fig.axes[0].patches) == 6  # one patch per node
    centres = {name: patch.get_extents() for name, patch in patches.items()}
    xs = {round((centres[f"branch{i}"].x0 + centres[f"branch{i}"].x1) / 2, 3) for i in range(1, 5)}
    ys = {round((centres[f"branch{i}"].y0 + centres[f"branch{i}"].y1) / 2, 3) for i in range(1, 5)}
    assert len(xs) == 1 and len(ys) == 4
    assert type(patches["join"]).__name__ == "Circle"
    assert all(arrow.arrow_patch.get_connectionstyle().rad == 0 for arrow in _arrows(fig).values())


@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_skip_connection_is_an_arc_around_the_boxes_in_between(direction):
    fig = draw(Residual(), (1, 8, 16, 16), direction=direction)
    ax = fig.axes[0]
    assert len(ax.patches) == 6
    arrows = _arrows(fig)
    assert set(arrows) == {"input->conv1", "conv1->relu", "relu->conv2", "conv2->shortcut", "input->shortcut",
                           "shortcut->relu#2"}
    rads = {gid: arrow.arrow_patch.get_connectionstyle().rad for gid, arrow in arrows.items()}
    assert rads.pop("input->shortcut") != 0
    assert set(rads.values()) == {0}
    # The arc, in display coordinates, enters none of the boxes it passes.
    fig.canvas.draw()
    renderer = FigureCanvasAgg(fig).get_renderer()  # the figures are not pyplot's: give them a canvas
    arrow = arrows["input->shortcut"].arrow_patch
    polyline = arrow.get_path().to_polygons(closed_only=False)[0]   # the curve, flattened
    points = arrow.get_transform().transform(Path(polyline).interpolated(20).vertices)
    for name in ("conv1", "relu", "conv2"):
        box = _patches(fig)[name].get_window_extent(renderer)
        assert not any(box.contains(x, y) for x, y in points), name


def test_draw_into_given_axes():
    fig, axes = plt.subplots(1, 2, figsize=(8, 2))
    assert draw(build("lenet5"), (1, 1, 32, 32), ax=axes[1]) is fig
    assert len(axes[1].patches) == len(LENET_NAMES) and not axes[0].patches
    sizes = [text.get_fontsize() for text in axes[1].texts if text.get_text()]
    assert max(sizes) < 8  # shrunk to fit the small axes
