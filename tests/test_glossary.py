"""chapters/glossary.md: sorted, every entry with its Chinese term and a definition, and every {term}
link of the chapters (prose and figure captions) naming an entry."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = REPO_ROOT / "chapters" / "glossary.md"
#: One CJK character at least: the Chinese term.
CJK_RE = re.compile(r"[\u3400-\u9fff]")
#: A glossary link: {term}`text` or {term}`text <target>`.
TERM_RE = re.compile(r"\{term\}`([^`]*)`")


def entries(text: str) -> list[tuple[str, list[str]]]:
    """The (term line, definition lines) of every entry of the page's glossary block."""
    match = re.search(r"^```\{glossary\}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert match, "no ```{glossary} block"
    found: list[tuple[str, list[str]]] = []
    for line in match.group(1).splitlines():
        if not line.strip():
            continue
        if line.startswith(" "):
            assert found, f"a definition line before any term: {line!r}"
            found[-1][1].append(line.strip())
        else:
            found.append((line.strip(), []))
    return found


def english(term: str) -> str:
    """The English part of a term line, the key the glossary is sorted by."""
    return term.split(" (")[0].casefold()


def normalise(term: str) -> str:
    """A term as Sphinx matches a {term} link to it: case and runs of whitespace ignored."""
    return " ".join(term.split()).casefold()


def problems(text: str) -> list[str]:
    found = entries(text)
    out = []
    keys = [english(term) for term, _ in found]
    out += [f"not in alphabetical order: {a!r} before {b!r}" for a, b in zip(keys, keys[1:]) if a > b]
    out += [f"defined twice: {k!r}" for k in sorted({k for k in keys if keys.count(k) > 1})]
    for term, definition in found:
        chinese = re.search(r"\(([^)]*)\)\s*$", term)
        if not chinese or not CJK_RE.search(chinese.group(1)):
            out.append(f"{term!r}: expected 'english (中文)', with the Chinese term in brackets at the end")
        if not definition:
            out.append(f"{term!r}: no definition (2-space-indented lines after the term)")
    return out


def test_glossary_is_sorted_and_complete() -> None:
    text = GLOSSARY.read_text(encoding="utf-8")
    assert len(entries(text)) >= 100
    assert not problems(text), "\n".join(problems(text))


@pytest.mark.parametrize("broken, message", [
    ("swap", "not in alphabetical order"),
    ("no chinese", "expected 'english (中文)'"),
    ("no definition", "no definition"),
    ("twice", "defined twice"),
])
def test_the_checks_catch(broken: str, message: str) -> None:
    block = ("```{glossary}\nalpha (阿尔法)\n  first.\n\nbeta (贝塔)\n  second.\n\ngamma (伽马)\n  third.\n```\n")
    assert not problems(block)
    bad = {
        "swap": block.replace("alpha (阿尔法)\n  first.", "delta (德尔塔)\n  first."),
        "no chinese": block.replace("beta (贝塔)", "beta (beta)"),
        "no definition": block.replace("\n  second.", ""),
        "twice": block.replace("gamma (伽马)", "beta (贝塔二)"),
    }[broken]
    assert any(message in p for p in problems(bad)), problems(bad)


def term_links() -> dict[str, set[str]]:
    """Every {term} link target of the chapters (Markdown cells, figure captions, Markdown pages) and where."""
    links: dict[str, set[str]] = {}
    chapters = REPO_ROOT / "chapters"
    texts = [(p.stem, p.read_text(encoding="utf-8")) for p in sorted(chapters.glob("*.md"))]
    for path in sorted(chapters.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            source = "".join(cell["source"]) if cell["cell_type"] == "markdown" else ""
            caption = cell.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("caption", "")
            texts.append((path.stem, source + "\n" + caption))
    for where, text in texts:
        for match in TERM_RE.finditer(text):
            target = re.search(r"<([^>]*)>\s*$", match.group(1))
            links.setdefault(normalise(target.group(1) if target else match.group(1)), set()).add(where)
    return links


def test_every_term_link_names_an_entry() -> None:
    terms = {normalise(term) for term, _ in entries(GLOSSARY.read_text(encoding="utf-8"))}
    links = term_links()
    assert len(links) >= 50
    missing = {link: sorted(where) for link, where in links.items() if link not in terms}
    assert not missing, f"{{term}} links with no glossary entry: {missing}"
