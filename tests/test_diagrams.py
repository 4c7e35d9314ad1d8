"""Tests for cnnzoo.diagrams: the figure's graph read off the traced model, and its drawing."""

import base64
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.path import Path  # noqa: E402
from torch import nn  # noqa: E402

from cnnzoo import graph as tracing  # noqa: E402
from cnnzoo.diagrams import (  # noqa: E402
    MAX_INCHES, TITLE_INCHES_PER_CHAR, Graph, Node, describe, draw, draw_graph, graph_from_model, graph_from_trace,
)
from cnnzoo.models import build  # noqa: E402

LENET_NAMES = ["input", "c1", "s2", "c3", "s4", "c5", "f6", "output"]
BOOK_DPI = 100            # matplotlib's default figure dpi, which the notebooks' PNGs use
OUTPUT_LIMIT = 200_000    # bytes per notebook output, as serialised JSON (PNG in base64)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------- small models


class Plain(nn.Module):
    """conv -> ReLU -> conv -> ReLU: no shortcut."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv2(self.relu(self.conv1(x))))


class Residual(Plain):
    """The same layers, plus the input before the last ReLU: one shortcut."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv2(self.relu(self.conv1(x))) + x)


class Mismatched(Plain):
    """Adds a 6x6 map to an 8x8 one: forward cannot run."""

    def __init__(self) -> None:
        super().__init__()
        self.conv2 = nn.Conv2d(8, 8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x)) + x


class Dense(nn.Module):
    """A DenseNet-like block: each layer reads the concatenation of all earlier outputs."""

    def __init__(self, in_channels: int = 8, growth: int = 4, layers: int = 3) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Sequential(nn.BatchNorm2d(in_channels + i * growth), nn.ReLU(),
                          nn.Conv2d(in_channels + i * growth, growth, 3, padding=1))
            for i in range(layers)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.layers:
            features.append(layer(torch.cat(features, 1)))
        return torch.cat(features, 1)


class Fractal(nn.Module):
    """A FractalNet-like join: three columns of 1, 2 and 4 convolutions, averaged."""

    def __init__(self, channels: int = 8, stack: bool = True) -> None:
        super().__init__()
        self.stack = stack
        self.short = nn.Conv2d(channels, channels, 3, padding=1)
        self.deep = nn.Sequential(*[nn.Conv2d(channels, channels, 3, padding=1) for _ in range(2)])
        self.deeper = nn.Sequential(*[nn.Conv2d(channels, channels, 3, padding=1) for _ in range(4)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        columns = [self.short(x), self.deep(x), self.deeper(x)]
        if self.stack:
            return torch.stack(columns).mean(0)
        return (columns[0] + columns[1] + columns[2]) / 3


def _tv(name: str) -> nn.Module:
    if name == "googlenet":
        return torchvision.models.googlenet(weights=None, init_weights=False)
    return getattr(torchvision.models, name)(weights=None)


@pytest.fixture(scope="module")
def traced():
    """Each model built and traced once: name -> (model, traced graph)."""
    cache = {}

    def get(name: str):
        if name not in cache:
            model = _tv(name) if name in ("resnet18", "resnet50", "googlenet") else build(name)
            size = (1, 1, 32, 32) if name.startswith("lenet") else (1, 3, 224, 224)
            cache[name] = model, tracing.trace(model, size)
        return cache[name]
    return get


def _patches(fig: Figure) -> dict:
    """The boxes and circles of the figure, by node name (the stacked box behind a count left out)."""
    return {patch.get_gid(): patch for patch in fig.axes[0].patches if not patch.get_gid().endswith("(behind)")}


def _arrows(fig: Figure) -> dict:
    return {text.get_gid(): text for text in fig.axes[0].texts if text.get_gid() and "->" in text.get_gid()}


def _quotient_edges(figure: Graph, model_graph: tracing.ModelGraph) -> set[tuple[str, str]]:
    """The traced edges between different boxes, each box named by the figure node holding it."""
    box = {member: node.name for node in figure.nodes for member in node.members}
    return {(box[source], box[node.name]) for node in model_graph.nodes
            if node.name in box for source in node.inputs if source in box and box[source] != box[node.name]}


def _assert_drawn_from_the_trace(figure: Graph, model_graph: tracing.ModelGraph, expand: str | None = None) -> None:
    members = [m for node in figure.nodes for m in node.members]
    assert len(members) == len(set(members)), "a traced node is in two boxes"
    if expand is None:
        wanted = {node.name for node in model_graph.nodes if node.op != "output"}
    else:
        inside = {node.name for node in model_graph.inside(expand)}
        wanted = inside | {i for node in model_graph.nodes if node.name in inside for i in node.inputs}
    assert set(members) == wanted
    assert figure.edges() == _quotient_edges(figure, model_graph)


def _assert_readable(fig: Figure, figure: Graph) -> None:
    """Each box's text lies inside its box, and no two boxes (or circles) overlap."""
    renderer = FigureCanvasAgg(fig).get_renderer()  # the figures are not pyplot's: give them a canvas
    patches = _patches(fig)
    assert list(patches) == [node.name for node in figure.nodes]
    texts = {text.get_gid(): text for text in fig.axes[0].texts if text.get_gid()}
    for node in figure.nodes:
        if node.kind in ("add", "concat", "mul", "mean"):
            continue
        box = patches[node.name].get_window_extent(renderer)
        label = texts[f"{node.name} (text)"]
        assert label.get_text() == node.text
        extent = label.get_window_extent(renderer)
        assert box.x0 < extent.x0 and extent.x1 < box.x1 and box.y0 < extent.y0 and extent.y1 < box.y1, node.name
    boxes = [patch.get_window_extent(renderer) for patch in fig.axes[0].patches]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                   if not (abs(a.x0 - b.x0) < 10 and abs(a.y1 - b.y1) < 10))   # a box and the one behind it


def _png_json_bytes(fig: Figure) -> int:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=BOOK_DPI)
    return len(base64.b64encode(buffer.getvalue()))


# --------------------------------------------------------------------------- LeNet


def test_lenet5_graph_is_a_chain_with_the_papers_shapes(traced):
    model, model_graph = traced("lenet5")
    figure = graph_from_trace(model_graph, model)
    nodes = {node.name: node for node in figure.nodes}
    assert [node.name for node in figure.nodes] == LENET_NAMES
    assert all(node.inputs == (previous,) for previous, node in zip(LENET_NAMES, figure.nodes[1:]))
    assert nodes["c1"].text == "c1\nconv 5×5, 6\nReLU\n6@28×28" and nodes["c1"].kind == "conv"
    assert "max pool 2×2, /2" in nodes["s2"].text and nodes["s4"].text.endswith("16@5×5")  # flatten left out
    assert nodes["c5"].text == "c5\nfc 120\nReLU\n120" and nodes["c5"].shape == (1, 120)
    assert nodes["output"].text == "output\nfc 10\n10"
    assert nodes["input"].text == "input\n1@32×32"
    _assert_drawn_from_the_trace(figure, model_graph)


def test_lenet5_1998_graph_uses_the_layers_own_labels(traced):
    model, model_graph = traced("lenet5_1998")
    figure = graph_from_trace(model_graph, model)
    nodes = {node.name: node for node in figure.nodes}
    assert [node.name for node in figure.nodes] == LENET_NAMES
    assert nodes["s2"].text == "s2\nsubsample 2×2, /2\n(trainable)\nscaled tanh\n6@14×14"
    assert "Table I" in nodes["c3"].text and "16@10×10" in nodes["c3"].text
    assert nodes["c5"].text == "c5\nconv 5×5, 120\nscaled tanh\n120@1×1"
    assert nodes["output"].text == "output\nRBF 10\n10"     # the negation joins the RBF box
    _assert_drawn_from_the_trace(figure, model_graph)


@pytest.mark.parametrize("name", ["lenet5", "lenet5_1998"])
@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_lenet_figure_text_fits_and_boxes_do_not_overlap(name, direction, traced):
    model, model_graph = traced(name)
    figure = graph_from_trace(model_graph, model)
    fig = draw_graph(figure, direction=direction, title=name)
    _assert_readable(fig, figure)
    assert _png_json_bytes(fig) < OUTPUT_LIMIT
    renderer = FigureCanvasAgg(fig).get_renderer()
    boxes = [patch.get_window_extent(renderer) for patch in _patches(fig).values()]
    centres = [((b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2) for b in boxes]
    if direction == "LR":   # layers follow the direction
        assert all(a[0] < b[0] and a[1] == pytest.approx(b[1]) for a, b in zip(centres, centres[1:]))
    else:
        assert all(a[1] > b[1] and a[0] == pytest.approx(b[0]) for a, b in zip(centres, centres[1:]))


def test_draw_keeps_the_chapters_call(traced):
    fig = Figure(figsize=(5.5, 10.5), layout="constrained")
    left, right = fig.subplots(1, 2)
    assert draw(build("lenet5_1998"), (1, 1, 32, 32), direction="TB", ax=left, title="paper") is fig
    draw(build("lenet5"), [1, 1, 32, 32], direction="TB", ax=right)
    assert len(right.patches) == len(LENET_NAMES) and len(left.patches) == len(LENET_NAMES)
    fig, axes = plt.subplots(1, 2, figsize=(8, 2))
    draw(build("lenet5"), (1, 1, 32, 32), ax=axes[1])
    assert not axes[0].patches
    assert max(text.get_fontsize() for text in axes[1].texts if text.get_text()) < 8   # shrunk to fit


# --------------------------------------------------------------------------- edges come from forward


def test_a_model_without_a_shortcut_gets_no_arc_and_one_with_gets_exactly_one():
    plain, residual = Plain(), Residual()
    plain_graph = graph_from_model(plain, (1, 8, 16, 16), depth=0)    # every layer: the two convs are a run
    assert [node.kind for node in plain_graph.nodes] == ["input", "conv", "conv"]
    fig = draw_graph(plain_graph, direction="LR")
    assert all(arrow.arrow_patch.get_connectionstyle().rad == 0 for arrow in _arrows(fig).values())

    model_graph = tracing.trace(residual, (1, 8, 16, 16))
    figure = graph_from_trace(model_graph, residual)
    _assert_drawn_from_the_trace(figure, model_graph)
    assert [node.kind for node in figure.nodes] == ["input", "conv", "conv", "add", "act"]
    add = figure.nodes[3]
    assert add.inputs == ("conv2", "input") and add.shape == model_graph[add.members[0]].shape
    fig = draw_graph(figure, direction="LR")
    rads = {gid: arrow.arrow_patch.get_connectionstyle().rad for gid, arrow in _arrows(fig).items()}
    assert [gid for gid, rad in rads.items() if rad != 0] == ["input->add"]


@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_skip_connection_is_an_arc_around_the_boxes_in_between(direction):
    fig = draw(Residual(), (1, 8, 16, 16), direction=direction)
    arrows = _arrows(fig)
    renderer = FigureCanvasAgg(fig).get_renderer()
    arrow = arrows["input->add"].arrow_patch
    arrow.draw(renderer)
    polyline = arrow.get_path().to_polygons(closed_only=False)[0]   # the curve, flattened
    points = arrow.get_transform().transform(Path(polyline).interpolated(20).vertices)
    for name in ("conv1", "conv2"):
        box = _patches(fig)[name].get_window_extent(renderer)
        assert not any(box.contains(x, y) for x, y in points), name


def test_an_add_of_mismatched_shapes_raises_rather_than_drawing():
    with pytest.raises(ValueError, match="Mismatched's forward fails.*cannot be drawn.*size of tensor"):
        draw(Mismatched(), (1, 8, 8, 8))


def test_model_errors_propagate():
    with pytest.raises(ValueError, match="32x32"):
        graph_from_model(build("lenet5"), (1, 1, 28, 28))


# --------------------------------------------------------------------------- deep networks


def test_resnet18_collapses_each_stage_and_fits_a_page(traced):
    model, model_graph = traced("resnet18")
    figure = graph_from_trace(model_graph, model)
    _assert_drawn_from_the_trace(figure, model_graph)
    blocks = [node for node in figure.nodes if node.kind == "block"]
    assert [node.count for node in blocks] == [2, 2, 2, 2]
    assert [node.name for node in blocks] == ["layer1.0–1", "layer2.0–1", "layer3.0–1", "layer4.0–1"]
    for stage, node in enumerate(blocks, 1):   # each box holds its stage's nodes, and shows its output
        assert set(node.members) == {n.name for n in model_graph.inside(f"layer{stage}")}
        assert node.shape == model_graph[node.members[-1]].shape
        assert _text_lines(node)[-1] == f"{64 * 2 ** (stage - 1)}@{56 // 2 ** (stage - 1)}×{56 // 2 ** (stage - 1)}"
    assert "BasicBlock ×2" in blocks[0].text and "downsample" not in blocks[0].text
    assert all("(first: + downsample)" in node.text for node in blocks[1:])
    assert figure.nodes[1].text == "conv1\nconv 7×7, 64, /2\nBN · ReLU\n64@112×112"
    fig = draw_graph(figure, direction=None)
    width, height = fig.get_size_inches()
    assert max(width, height) <= 12 and height > width      # drawn top to bottom, a page high
    _assert_readable(fig, figure)
    assert _png_json_bytes(fig) < OUTPUT_LIMIT


def _text_lines(node: Node) -> list[str]:
    return node.text.split("\n")


def test_resnet50_counts_are_the_papers(traced):
    model, model_graph = traced("resnet50")
    figure = graph_from_trace(model_graph, model)
    assert [node.count for node in figure.nodes if node.kind == "block"] == [3, 4, 6, 3]
    assert all("Bottleneck ×" in node.text for node in figure.nodes if node.kind == "block")
    _assert_drawn_from_the_trace(figure, model_graph)


def test_resnet_block_expanded_shows_the_shortcut_and_the_add(traced):
    model, model_graph = traced("resnet18")
    figure = graph_from_trace(model_graph, model, expand="layer1.0")
    _assert_drawn_from_the_trace(figure, model_graph, expand="layer1.0")
    assert [(node.name, node.kind, node.inputs) for node in figure.nodes] == [
        ("input", "input", ()), ("conv1", "conv", ("input",)), ("conv2", "conv", ("conv1",)),
        ("add", "add", ("conv2", "input")), ("layer1_0_relu_1", "act", ("add",))]
    fig = draw_graph(figure)
    _assert_readable(fig, figure)
    assert [gid for gid, arrow in _arrows(fig).items() if arrow.arrow_patch.get_connectionstyle().rad] == \
        ["input->add"]

    figure = graph_from_trace(model_graph, model, expand="layer2.0")     # the projection shortcut
    _assert_drawn_from_the_trace(figure, model_graph, expand="layer2.0")
    nodes = {node.name: node for node in figure.nodes}
    assert nodes["downsample"].text == "downsample\nconv 1×1, 128, /2\nBN\n128@28×28"
    assert nodes["add_2"].inputs == ("conv2", "downsample") and nodes["add_2"].shape == (1, 128, 28, 28)


def test_googlenet_collapses_inception_modules_and_expands_one(traced):
    model, model_graph = traced("googlenet")
    figure = graph_from_trace(model_graph, model)
    _assert_drawn_from_the_trace(figure, model_graph)
    blocks = [node for node in figure.nodes if node.kind == "block"]
    assert [(node.name, node.count) for node in blocks] == [
        ("inception3a–b", 2), ("inception4a–e", 5), ("inception5a–b", 2)]
    fig = draw_graph(figure, direction=None)
    assert max(fig.get_size_inches()) <= 13
    assert _png_json_bytes(fig) < OUTPUT_LIMIT
    _assert_readable(fig, figure)

    figure = graph_from_trace(model_graph, model, expand="inception3a")
    _assert_drawn_from_the_trace(figure, model_graph, expand="inception3a")
    concat = figure.nodes[-1]
    assert concat.kind == "concat" and concat.inputs == ("branch1", "branch2.1", "branch3.1", "branch4.1")
    assert concat.shape == model_graph[concat.members[0]].shape == (1, 256, 28, 28)
    fig = draw_graph(figure, direction="TB")
    renderer = FigureCanvasAgg(fig).get_renderer()
    patches = _patches(fig)
    firsts = [patches[name].get_window_extent(renderer) for name in ("branch1", "branch2.0", "branch3.0", "branch4.0")]
    assert len({round((box.y0 + box.y1) / 2) for box in firsts}) == 1  # the four branches side by side
    assert [box.x0 for box in firsts] == sorted(box.x0 for box in firsts)
    for first, second in (("branch2.0", "branch2.1"), ("branch3.0", "branch3.1"), ("branch4.0", "branch4.1")):
        a, b = (patches[name].get_window_extent(renderer) for name in (first, second))
        assert (a.x0, a.x1) == pytest.approx((b.x0, b.x1)) and b.y1 < a.y0   # each branch in its own column
    assert max(fig.get_size_inches()) <= 8
    _assert_readable(fig, figure)
    assert _png_json_bytes(fig) < OUTPUT_LIMIT


def test_dense_block_draws_every_concatenation():
    model = Dense()
    model_graph = tracing.trace(model, (1, 8, 8, 8))
    figure = graph_from_trace(model_graph, model)
    _assert_drawn_from_the_trace(figure, model_graph)
    concats = [node for node in figure.nodes if node.kind == "concat"]
    assert [node.inputs for node in concats] == [
        ("input", "layers.0"), ("input", "layers.0", "layers.1"), ("input", "layers.0", "layers.1", "layers.2")]
    assert [node.shape[1] for node in concats] == [12, 16, 20]
    assert figure.nodes[1].text == "layers.0\nBN · ReLU\nconv 3×3, 4\n4@8×8"   # pre-activation, one box
    fig = draw_graph(figure)
    _assert_readable(fig, figure)
    assert max(fig.get_size_inches()) <= 12 and _png_json_bytes(fig) < OUTPUT_LIMIT


@pytest.mark.parametrize("stack", [True, False])
def test_fractal_join_is_one_mean_of_the_columns(stack):
    model = Fractal(stack=stack)
    model_graph = tracing.trace(model, (1, 8, 8, 8))
    figure = graph_from_trace(model_graph, model)
    _assert_drawn_from_the_trace(figure, model_graph)
    join = figure.nodes[-1]
    assert join.kind == "mean" and join.inputs == ("short", "deep", "deeper")   # each column one box
    assert [node.count for node in figure.nodes if node.kind == "conv"] == [1, 2, 4]
    assert join.shape == model_graph[model_graph.output.inputs[0]].shape
    fig = draw_graph(figure)
    _assert_readable(fig, figure)
    assert max(fig.get_size_inches()) <= 12 and _png_json_bytes(fig) < OUTPUT_LIMIT


def test_an_activation_joins_a_box_only_when_it_is_the_boxs_only_reader():
    class PreActivated(Plain):
        def forward(self, x):
            y = self.conv1(x)
            return self.relu(y) + y       # the add reads the convolution both before and after the ReLU

    figure = graph_from_model(PreActivated(), (1, 8, 4, 4))
    assert [(node.kind, node.inputs) for node in figure.nodes] == [
        ("input", ()), ("conv", ("input",)), ("act", ("conv1",)), ("add", (figure.nodes[2].name, "conv1"))]


class Stage(nn.Module):
    """Blocks in a row; ``project`` gives a block a shortcut convolution the others lack."""

    def __init__(self, project: list[bool]) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*[Block(p) for p in project])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


class Block(nn.Module):
    def __init__(self, project: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
        if project:
            self.shortcut = nn.Conv2d(8, 8, 1)
        self.project = project

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) + (self.shortcut(x) if self.project else x)


@pytest.mark.parametrize("project, counts", [
    ([True, False, False], [3]),         # a stage's first block may add a shortcut convolution
    ([False, False, True], [2, 1]),      # a later block may not
    ([True, True, False], [2, 1]),       # nor one after the first, once the run has started
    ([False, True, False], [1, 2]),
])
def test_only_the_first_block_of_a_run_may_differ(project, counts):
    figure = graph_from_model(Stage(project), (1, 8, 4, 4))
    assert [node.count for node in figure.nodes if node.kind == "block"] == counts
    first = next(node for node in figure.nodes if node.kind == "block")
    assert ("(first: + shortcut)" in first.text) == (project[0] and not project[1])


def test_a_sum_not_divided_by_its_terms_stays_a_sum():
    class Half(Fractal):
        def forward(self, x):
            return (self.short(x) + self.deep(x) + self.deeper(x)) / 2

    figure = graph_from_model(Half(), (1, 8, 8, 8))
    assert figure.nodes[-1].kind == "add" and len(figure.nodes[-1].inputs) == 3


# --------------------------------------------------------------------------- runs of identical layers


@pytest.fixture(scope="module")
def traced_vgg():
    """VGG built and traced on the meta device (no weights, no arithmetic): name -> (model, graph)."""
    cache = {}

    def get(name: str):
        if name not in cache:
            with torch.device("meta"):
                model = build(name)
            cache[name] = model, tracing.trace(model, (1, 3, 224, 224))
        return cache[name]
    return get


@pytest.mark.parametrize("name, counts", [
    ("vgg16", [2, 2, 3, 3, 3]),                   # Simonyan & Zisserman, Table 1, column D
    ("vgg19", [2, 2, 4, 4, 4]),                   # column E
    ("vgg16_c", [2, 2, 2, 1, 2, 1, 2, 1]),        # column C: each stage's 1×1 conv ends its run
])
def test_vgg_collapses_each_stage_to_the_papers_rows(name, counts, traced_vgg):
    model, model_graph = traced_vgg(name)
    figure = graph_from_trace(model_graph, model)
    _assert_drawn_from_the_trace(figure, model_graph)
    convs = [node for node in figure.nodes if node.kind == "conv"]
    assert [node.count for node in convs] == counts
    for node in convs:    # a run is its layers' nodes only, and shows the last one's output
        modules = [model_graph[m] for m in node.members if model_graph[m].op == "module"]
        assert sum(isinstance(m.module, nn.Conv2d) for m in modules) == node.count
        assert all(m.shape == node.shape for m in modules)
        assert node.shape == model_graph[node.members[-1]].shape
    kinds = [node.kind for node in figure.nodes if node.kind in ("conv", "pool")]
    stages = "".join("p" if kind == "pool" else "c" for kind in kinds)
    assert stages.split("p")[:5] == ["c" * (1 + name.endswith("_c") * (i >= 2)) for i in range(5)]
    fcs = [node for node in figure.nodes if node.kind == "fc"]
    assert [node.count for node in fcs] == [2, 1]     # FC-4096 twice, then FC-1000


def test_vgg16_figure_is_a_page_long_and_depth_0_draws_every_layer(traced_vgg):
    model, model_graph = traced_vgg("vgg16")
    figure = graph_from_trace(model_graph, model)
    nodes = {node.name: node for node in figure.nodes}
    assert nodes["features.24–28"].text == "features.24–28\nconv 3×3, 512 · ReLU ×3\n512@14×14"
    assert nodes["features.10–14"].members[0] == "features_10"    # 128 -> 256 channels: it joins the run
    assert nodes["classifier.0–3"].text == "classifier.0–3\nfc 4096 ×2\nReLU · dropout 0.5\n4096"
    fig = draw_graph(figure, direction=None, title="vgg16")
    width, height = fig.get_size_inches()
    assert height > width and height <= 13.5     # 22.2 inches with every layer drawn
    _assert_readable(fig, figure)
    assert _png_json_bytes(fig) < OUTPUT_LIMIT
    every = graph_from_trace(model_graph, model, depth=0)
    _assert_drawn_from_the_trace(every, model_graph)
    assert all(node.count == 1 for node in every.nodes)
    assert sum(node.kind == "conv" for node in every.nodes) == 13 and len(every.nodes) == 23


class Chain(nn.Module):
    """conv 3×3, 8 · ReLU in a row, each padded as given: no padding shrinks the map by 2."""

    def __init__(self, paddings: list[int]) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(8, 8, 3, padding=p) for p in paddings)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = torch.relu(conv(x))
        return x


class Branch(nn.Module):
    """Three convolutions in a row, the first one's output also read by the add."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(8, 8, 3, padding=1) for _ in range(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.convs[0](x)
        return self.convs[2](self.convs[1](y)) + y


@pytest.mark.parametrize("model, counts", [
    (Chain([1, 1, 1]), [3]),
    (Chain([1, 1, 0, 0]), [2, 1, 1]),    # a change of shape ends a run, though the label is the same
    (Chain([0, 1, 1]), [3]),             # the first layer may change the input's shape (as VGG's, the channels)
    (Branch(), [1, 2]),                  # a box read twice ends a run
])
def test_a_run_of_layers_is_a_chain_of_equal_labels_and_shapes(model, counts):
    model_graph = tracing.trace(model, (1, 8, 16, 16))
    figure = graph_from_trace(model_graph, model)
    _assert_drawn_from_the_trace(figure, model_graph)
    assert [node.count for node in figure.nodes if node.kind == "conv"] == counts
    assert [node.count for node in graph_from_trace(model_graph, model, depth=0).nodes
            if node.kind == "conv"] == [1] * sum(counts)


def test_every_layer_drawn_is_too_long_and_says_what_to_do(traced):
    model, model_graph = traced("resnet18")
    figure = graph_from_trace(model_graph, model, depth=0)
    _assert_drawn_from_the_trace(figure, model_graph)
    assert sum(node.kind == "add" for node in figure.nodes) == 8
    with pytest.raises(ValueError, match=f"at most {MAX_INCHES}.*expand"):
        draw_graph(figure, direction="TB")


def test_expand_errors(traced):
    model, model_graph = traced("resnet18")
    with pytest.raises(ValueError, match="layer9.*blocks: layer1.0, layer1.1"):
        graph_from_trace(model_graph, model, expand="layer9")
    with pytest.raises(ValueError, match="single layer"):
        graph_from_trace(model_graph, model, expand="layer1.0.conv1")
    with pytest.raises(ValueError, match="depth"):
        graph_from_trace(model_graph, model, depth=-1)


# --------------------------------------------------------------------------- the figure's graph


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


def test_bad_direction_raises():
    graph = graph_from_model(Plain(), (1, 8, 4, 4))
    with pytest.raises(ValueError, match="direction"):
        draw_graph(graph, direction="RL")
    with pytest.raises(ValueError, match="direction"):
        draw(Plain(), (1, 8, 4, 4), direction="lr")


class _ConvReLU(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.conv(x))


def test_a_box_that_starts_with_a_folded_prefix_is_named_after_its_layer():
    # GoogLeNet 2014: conv3 (a conv-ReLU module) -> norm2 (LRN, another scope) -> maxpool2. The LRN
    # cannot join conv3's box, so it prefixes the pooling's box, which keeps the pooling's name.
    model = nn.Sequential()
    model.add_module("conv3", _ConvReLU())
    model.add_module("norm2", nn.LocalResponseNorm(5))
    model.add_module("maxpool2", nn.MaxPool2d(2))
    nodes = {node.name: node for node in graph_from_model(model, (1, 3, 8, 8)).nodes}
    assert nodes["maxpool2"].text.split("\n")[:3] == ["maxpool2", "LRN", "max pool 2×2, /2"]


class _Head(nn.Module):
    # GoogLeNet's auxiliary head in small: a conv block, then a flatten written in this forward.
    def __init__(self) -> None:
        super().__init__()
        self.conv = _ConvReLU()
        self.fc = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))


def test_a_block_box_keeps_the_block_s_name_when_a_flatten_joins_it():
    nodes = [node.text.split("\n")[0] for node in graph_from_model(_Head(), (1, 3, 8, 8)).nodes]
    assert nodes == ["input", "conv", "fc"]


def test_a_narrow_drawing_is_widened_to_fit_its_title():
    """One column of boxes under a long title: the figure is as wide as the title, the drawing centred."""
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    title = "a title much wider than one column of boxes"
    fig = draw(net, (1, 3, 8, 8), direction="TB", title=title)
    assert fig.get_size_inches()[0] >= TITLE_INCHES_PER_CHAR * len(title)
    box = fig.axes[0].get_position()
    assert box.x0 > 0 and abs(box.x0 - (1 - box.x1)) < 1e-9
    untitled = draw(net, (1, 3, 8, 8), direction="TB")
    assert untitled.get_size_inches()[0] < fig.get_size_inches()[0]
