"""The documentation's Markdown: the README and the site's pages (docs/, in mkdocs.yml's order)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS = REPO_ROOT / "docs"


def site_pages(root: Path = REPO_ROOT) -> dict[str, str]:
    """Navigation title -> page file (relative to docs/), in the order of mkdocs.yml's ``nav``."""
    nav = yaml.safe_load((root / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    return {title: page for entry in nav for title, page in entry.items()}


def documents(root: Path = REPO_ROOT) -> list[Path]:
    """The README, then every page of the site in navigation order."""
    return [root / "README.md", *(root / "docs" / page for page in site_pages(root).values())]


def fenced_blocks(markdown: str, language: str) -> list[str]:
    """The contents of the ``language`` fenced blocks of ``markdown``, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL)


def page_text(page: str) -> str:
    """The Markdown of a page of the site (``limits.md``)."""
    return (DOCS / page).read_text(encoding="utf-8")
