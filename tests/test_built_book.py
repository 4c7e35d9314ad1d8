"""The built HTML book works opened from disk and served by a plain web server.

Readers open the published book from GitHub Pages, and some from a copy on disk. So every page
of a built book (``--book-dir _build/html``, repeatable; ``make book-check``):

* loads no remote script, stylesheet, image or frame (links to other sites are fine: they load
  nothing until clicked), and no stylesheet it loads imports a remote font or stylesheet;
* refers only to local files that exist on disk (``href``/``src`` of every tag, ``url()`` in
  its stylesheets), so it works from ``file://``;
* gets each of them with status 200 from ``python -m http.server`` (the book served);
* loads MathJax from the book itself, once, with its TeX extensions beside it.

Without ``--book-dir`` only the checks' own tests, on small made-up books, run.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

#: Tags whose URL the browser fetches while loading the page (an ``<a>`` waits for a click).
LOADING_TAGS = {"script", "link", "img", "iframe", "source", "video", "audio", "embed", "object", "track", "input"}
URL_ATTRS = ("href", "src", "data", "poster")
#: ``url(...)`` and ``@import "..."`` in a stylesheet.
CSS_URL_RE = re.compile(r"""url\(\s*(['"]?)(?P<url>[^'")]+)\1\s*\)|@import\s+(['"])(?P<imp>[^'"]+)\3""")


class _Refs(HTMLParser):
    """Collects ``(tag, attribute, url, rel)`` for every URL attribute of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for attr in URL_ATTRS:
            if values.get(attr):
                self.refs.append((tag, attr, values[attr].strip(), (values.get("rel") or "").lower()))


def page_refs(html: str) -> list[tuple[str, str, str, str]]:
    """Every ``(tag, attribute, url, rel)`` of an HTML page."""
    parser = _Refs()
    parser.feed(html)
    return parser.refs


def is_remote(url: str) -> bool:
    """Whether ``url`` points off the book (``https://...``, ``//host/...``, ``mailto:``...)."""
    return bool(urlsplit(url).scheme) or url.startswith("//")


def local_path(url: str) -> str | None:
    """The file part of a local URL (no query, no fragment, decoded), or None for a bare fragment."""
    if is_remote(url):
        return None
    path = unquote(urlsplit(url).path)
    return path or None


def css_urls(css: str) -> list[str]:
    """The URLs a stylesheet loads: ``url(...)`` (except ``data:``) and ``@import``."""
    found = [m["url"] or m["imp"] for m in CSS_URL_RE.finditer(css)]
    return [u.strip() for u in found if not u.strip().startswith(("data:", "#"))]


def book_pages(root: Path) -> list[Path]:
    """The HTML pages of a built book (not the theme's template snippets under ``_static``)."""
    return sorted(p for p in root.rglob("*.html") if "_static" not in p.relative_to(root).parts)


@lru_cache(maxsize=None)
def scan_book(book_dir: str) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """Check a built book's pages on disk.

    Returns:
        ``(remote, local, missing)``: the remote resources that pages load (``"page: url"``),
        every local reference as ``(page, path relative to the book)``, and the local
        references with no file on disk (``"page: url"``).
    """
    root = Path(book_dir).resolve()
    pages = book_pages(root)
    if not pages:
        raise ValueError(f"expected a built HTML book in {root}, got no .html files")
    remote: list[str] = []
    local: list[tuple[str, str]] = []
    missing: list[str] = []
    stylesheets: set[Path] = set()

    def resolve(page: Path, base: Path, url: str) -> None:
        path = local_path(url)
        if path is None:
            return
        where = page.relative_to(root).as_posix()
        if path.startswith("/"):  # the file system's root from disk, the server's root when served
            missing.append(f"{where}: {url} (an absolute path)")
            return
        target = (base / path).resolve()
        if not target.is_file() or not target.is_relative_to(root):
            missing.append(f"{where}: {url}")
            return
        local.append((where, target.relative_to(root).as_posix()))
        if target.suffix == ".css":
            stylesheets.add(target)

    for page in pages:
        where = page.relative_to(root).as_posix()
        for tag, attr, url, rel in page_refs(page.read_text(encoding="utf-8")):
            if is_remote(url):
                if tag in LOADING_TAGS and not (tag == "link" and rel in ("canonical", "alternate")):
                    remote.append(f"{where}: <{tag} {attr}={url}>")
                continue
            resolve(page, page.parent, url)
    for sheet in sorted(stylesheets):
        for url in css_urls(sheet.read_text(encoding="utf-8", errors="replace")):
            if is_remote(url):
                remote.append(f"{sheet.relative_to(root).as_posix()}: url({url})")
            else:
                resolve(sheet, sheet.parent, url)
    return remote, local, missing


def mathjax_scripts(html: str) -> list[str]:
    """The ``src`` of every script of a page whose name mentions MathJax."""
    return [url for tag, attr, url, _ in page_refs(html) if tag == "script" and attr == "src" and "mathjax" in url.lower()]


def mathjax_problems(book_dir: str) -> list[str]:
    """What is wrong with the book's MathJax: every page with math must load one local MathJax
    (no page more than one), with its TeX extensions beside it, and some page must have math."""
    root = Path(book_dir).resolve()
    problems = []
    pages_with_math = 0
    for page in book_pages(root):
        html = page.read_text(encoding="utf-8")
        scripts = mathjax_scripts(html)
        where = page.relative_to(root).as_posix()
        has_math = 'class="math' in html
        pages_with_math += has_math
        if len(scripts) > 1 or (has_math and not scripts):
            problems.append(f"{where}: expected one MathJax script, got {scripts}")
            continue
        if not scripts:
            continue
        if is_remote(scripts[0]):
            problems.append(f"{where}: MathJax from {scripts[0]}")
            continue
        script = (page.parent / local_path(scripts[0])).resolve()
        extensions = script.parent / "input" / "tex" / "extensions"
        if not script.is_file():
            problems.append(f"{where}: no MathJax at {script}")
        elif not (extensions / "autoload.js").is_file() or not (extensions / "boldsymbol.js").is_file():
            problems.append(f"{where}: no TeX extensions for autoload beside MathJax, in {extensions}")
    if not pages_with_math:
        problems.append(f"no page of {root} has math: is this the book?")
    return problems


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def served_failures(book_dir: str, paths: list[str], timeout: float = 10.0) -> list[str]:
    """Serve ``book_dir`` with ``python -m http.server`` on a free local port and request each path.

    Returns:
        ``"path: status"`` for every path that did not answer 200.
    """
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(book_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"http.server did not start on port {port}") from None
                time.sleep(0.05)
        failures = []
        for path in paths:
            url = f"http://127.0.0.1:{port}/{urllib.request.quote(path)}"
            try:
                with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout) as response:
                    status = response.status
            except urllib.error.HTTPError as err:
                status = err.code
            if status != 200:
                failures.append(f"{path}: {status}")
        return failures
    finally:
        server.terminate()
        server.wait(timeout=timeout)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One run of each ``book_dir`` test per ``--book-dir``."""
    if "book_dir" in metafunc.fixturenames:
        dirs = metafunc.config.getoption("--book-dir") or [None]
        metafunc.parametrize("book_dir", dirs, ids=[str(d) for d in dirs])


@pytest.fixture
def book(book_dir: str | None) -> str:
    """The ``--book-dir`` being checked (skips when none was given)."""
    if book_dir is None:
        pytest.skip("no --book-dir given (make book-check gives it)")
    if not Path(book_dir).is_dir():
        pytest.fail(f"--book-dir {book_dir} does not exist: build the book first (make book)")
    return str(Path(book_dir).resolve())


# ---------------------------------------------------------------------------------------
# The built book


def test_no_page_loads_a_remote_resource(book: str) -> None:
    remote, _, _ = scan_book(book)
    assert not remote, "pages load remote resources (they fail offline and from disk):\n" + "\n".join(remote)


def test_every_local_reference_exists_on_disk(book: str) -> None:
    _, local, missing = scan_book(book)
    assert local, "no local references found: is this a built book?"
    assert not missing, "local references with no file (broken from disk and served):\n" + "\n".join(missing)


def test_every_local_reference_is_served(book: str) -> None:
    _, local, _ = scan_book(book)
    paths = sorted({path for _, path in local})
    failures = served_failures(book, paths)
    assert not failures, "not served with status 200 by http.server:\n" + "\n".join(failures)


def test_mathjax_is_local(book: str) -> None:
    problems = mathjax_problems(book)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------
# The checks themselves, on small made-up books


def _write(root: Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return str(root)


GOOD_PAGE = """<html><head>
<script defer="defer" src="../_static/mathjax/tex-svg.js?v=1"></script>
<link rel="stylesheet" href="../_static/style.css?v=2" />
</head><body>
<a href="https://colab.research.google.com/x">Colab</a> <a href="#top">top</a>
<a href="other.html#sec">other</a> <img src="../_images/a%20b.png" />
<p>The residual <span class="math notranslate nohighlight">\\(F(x) = H(x) - x\\)</span>.</p>
</body></html>"""
GOOD_BOOK = {
    "chapters/page.html": GOOD_PAGE,
    "chapters/other.html": GOOD_PAGE.replace("other.html#sec", "page.html"),
    "_static/style.css": "@font-face { src: url('fonts/f.woff2') format('woff2'), url(data:font/woff2;base64,AA); }",
    "_static/fonts/f.woff2": "font",
    "_static/mathjax/tex-svg.js": "mathjax",
    "_static/mathjax/input/tex/extensions/autoload.js": "autoload",
    "_static/mathjax/input/tex/extensions/boldsymbol.js": "boldsymbol",
    "_images/a b.png": "png",
    "_static/webpack-macros.html": "<link href=\"{{ pathto('_static/x.css', 1) }}\">",  # a template, not a page
    "genindex.html": "<html><body><a href='chapters/page.html'>page</a></body></html>",  # no math, no MathJax
}


def test_a_good_book_passes(tmp_path: Path) -> None:
    book = _write(tmp_path, GOOD_BOOK)
    remote, local, missing = scan_book(book)
    assert (remote, missing) == ([], [])
    assert ("chapters/page.html", "_images/a b.png") in local
    assert ("_static/style.css", "_static/fonts/f.woff2") in local  # found through the stylesheet
    assert mathjax_problems(book) == []
    assert served_failures(book, sorted({p for _, p in local})) == []


@pytest.mark.parametrize(
    "page, css, expected",
    [
        (GOOD_PAGE.replace("../_static/mathjax/tex-svg.js?v=1", "https://cdn.example.org/mathjax/tex-svg.js"), None, "<script src="),
        (GOOD_PAGE.replace("../_static/style.css?v=2", "//fonts.example.org/css"), None, "<link href="),
        (GOOD_PAGE.replace("../_images/a%20b.png", "http://example.org/a.png"), None, "<img src="),
        (GOOD_PAGE, "@import 'https://fonts.example.org/css';", "url(https://fonts.example.org/css)"),
        (GOOD_PAGE, "body { background: url(https://example.org/bg.png) }", "url(https://example.org/bg.png)"),
    ],
)
def test_remote_resources_are_found(tmp_path: Path, page: str, css: str | None, expected: str) -> None:
    files = dict(GOOD_BOOK, **{"chapters/page.html": page})
    if css is not None:
        files["_static/style.css"] = css
    remote, _, _ = scan_book(_write(tmp_path, files))
    assert len(remote) == 1 and expected in remote[0], remote


@pytest.mark.parametrize(
    "page, css",
    [
        (GOOD_PAGE.replace("other.html#sec", "missing.html#sec"), None),
        (GOOD_PAGE.replace("../_images/a%20b.png", "../_images/a b c.png"), None),
        (GOOD_PAGE.replace("../_static/style.css?v=2", "_static/style.css"), None),  # one level off
        (GOOD_PAGE.replace("../_images/a%20b.png", "/_images/a%20b.png"), None),  # absolute
        (GOOD_PAGE.replace("other.html#sec", "../chapters/"), None),  # a folder: no index.html from disk
        (GOOD_PAGE.replace("other.html#sec", "../../outside.html"), None),  # a file beside the book
        (GOOD_PAGE, "@font-face { src: url('fonts/gone.woff2') }"),
    ],
)
def test_missing_local_files_are_found(tmp_path: Path, page: str, css: str | None) -> None:
    (tmp_path / "outside.html").write_text("<html></html>", encoding="utf-8")
    tmp_path = tmp_path / "book"
    files = dict(GOOD_BOOK, **{"chapters/page.html": page})
    if css is not None:
        files["_static/style.css"] = css
    _, _, missing = scan_book(_write(tmp_path, files))
    assert len(missing) == 1, missing


def test_a_file_the_server_does_not_serve_is_found(tmp_path: Path) -> None:
    book = _write(tmp_path, GOOD_BOOK)
    assert served_failures(book, ["chapters/page.html", "chapters/gone.html"]) == ["chapters/gone.html: 404"]


MATHJAX_SCRIPT = '<script defer="defer" src="../_static/mathjax/tex-svg.js?v=1"></script>'
EXTENSION_SCRIPT = '<script src="../_static/mathjax/input/tex/extensions/ams.js"></script>'


@pytest.mark.parametrize(
    "page, removed, expected",
    [
        (GOOD_PAGE.replace("../_static/mathjax/", "https://cdn.example.org/mathjax@3/es5/"), None, "MathJax from https://cdn"),
        (GOOD_PAGE.replace(MATHJAX_SCRIPT, MATHJAX_SCRIPT + EXTENSION_SCRIPT), None, "expected one MathJax script"),
        (GOOD_PAGE.replace(MATHJAX_SCRIPT, ""), None, "expected one MathJax script, got []"),
        (GOOD_PAGE, "_static/mathjax/input/tex/extensions/boldsymbol.js", "no TeX extensions"),
        (GOOD_PAGE, "_static/mathjax/tex-svg.js", "no MathJax at"),
    ],
    ids=["cdn", "two-scripts", "math-without-mathjax", "no-extensions", "no-file"],
)
def test_mathjax_problems_are_found(tmp_path: Path, page: str, removed: str | None, expected: str) -> None:
    assert MATHJAX_SCRIPT in GOOD_PAGE
    files = dict(GOOD_BOOK, **{"chapters/page.html": page})
    files.pop(removed, None)
    problems = mathjax_problems(_write(tmp_path, files))
    assert any(p.startswith("chapters/page.html") and expected in p for p in problems), problems


def test_a_book_without_math_is_found(tmp_path: Path) -> None:
    files = {name: text.replace('class="math', 'class="text') for name, text in GOOD_BOOK.items()}
    assert mathjax_problems(_write(tmp_path, files)) == [f"no page of {tmp_path.resolve()} has math: is this the book?"]


def test_an_absolute_path_is_named_as_such(tmp_path: Path) -> None:
    files = dict(GOOD_BOOK, **{"chapters/page.html": GOOD_PAGE.replace("../_images/a%20b.png", "/_images/a%20b.png")})
    _, _, missing = scan_book(_write(tmp_path, files))
    assert missing == ["chapters/page.html: /_images/a%20b.png (an absolute path)"]
