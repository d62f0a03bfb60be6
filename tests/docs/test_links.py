"""Every relative link in README.md, CHANGELOG.md, docs/*.md and the examples' READMEs resolves: the
file or folder exists, and an #anchor names a heading of the Markdown file it points into (GitHub's
heading ids)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [
    ROOT / "README.md",
    ROOT / "CHANGELOG.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "examples").glob("*/README.md")),
]

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)


def links(markdown: str) -> list[str]:
    """The link targets of a document, outside code blocks and inline code."""
    text = _INLINE_CODE.sub("", _FENCE.sub("", markdown))
    return _LINK.findall(text) + _REFERENCE.findall(text)


def slug(heading: str) -> str:
    """GitHub's id for a heading: its rendered text, lower-cased, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = re.sub(r"[`*]|<[^>]+>", "", text)
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """The ids of a document's headings; a repeated heading gets -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    ids = set()
    for _, heading in _HEADING.findall(_FENCE.sub("", markdown)):
        base = slug(heading)
        count = seen.get(base, 0)
        ids.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return ids


def broken_links(document: Path) -> list[str]:
    broken = []
    for target in links(document.read_text()):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto: ...: not relative
            continue
        path_part, _, anchor = target.partition("#")
        resolved = (document.parent / unquote(path_part)).resolve() if path_part else document
        if not resolved.exists():
            broken.append(f"{target}: {_shown(resolved)} does not exist")
        elif anchor and resolved.suffix == ".md" and unquote(anchor) not in anchors(resolved.read_text()):
            broken.append(f"{target}: no heading #{anchor} in {_shown(resolved)}")
    return broken


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


@pytest.mark.parametrize("document", DOCUMENTS, ids=[str(d.relative_to(ROOT)) for d in DOCUMENTS])
def test_every_relative_link_resolves(document: Path) -> None:
    assert broken_links(document) == []


def test_the_checker_sees_a_broken_file_and_a_broken_anchor(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## `Settings` (all of them)\n\n## Twice\n\n## Twice\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md) [ok](other.md#settings-all-of-them) [ok](other.md#twice-1) [ok](#here)\n"
        "[gone](missing.md) [bad anchor](other.md#nowhere) [bad local](#there)\n"
        "`[code](not-a-link.md)` [web](https://example.com/x.md)\n\n## Here\n\n"
        "```\n[fenced](also-not-a-link.md)\n```\n"
    )
    here = tmp_path.resolve()
    assert broken_links(page) == [
        f"missing.md: {here / 'missing.md'} does not exist",
        f"other.md#nowhere: no heading #nowhere in {here / 'other.md'}",
        f"#there: no heading #there in {here / 'page.md'}",
    ]
