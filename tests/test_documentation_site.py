"""The documentation site: every README section has a page, and the built site renders in a browser.

The browser tests build the site as ``make docs`` does (``mkdocs build
--strict``), serve it over HTTP on 127.0.0.1, and read each page's DOM as
headless Chromium leaves it once the theme's scripts have run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from documentation_pages import DOCS, REPO_ROOT, site_pages

# Each section heading the README had before the site, -> the page that holds it now.
README_SECTIONS = {
    "Two commands": "index.md",
    "Use it in a CDK app": "index.md",
    "Use it from plain CloudFormation": "index.md",
    "Options": "runs.md",
    "Data from your app": "runs.md",
    "Update, rollback and delete": "runs.md",
    "Performance": "runs.md",
    "Waiting for a run, and pipelines": "waiting.md",
    "Cohorts": "cohorts.md",
    "Security": "security.md",
    "Compliance": "security.md",
    "Without CDK": "without-cdk.md",
    "Watching runs": "watching.md",
    "Limits": "limits.md",
}
# The README's own section: where the site is.
README_ONLY = {"Documentation"}


def test_each_readme_section_has_a_page_that_holds_it() -> None:
    for heading, page in README_SECTIONS.items():
        assert page in site_pages().values(), f"{page} is not in mkdocs.yml's nav"
        headings = re.findall(r"^#{1,2} (.+)$", (DOCS / page).read_text(encoding="utf-8"), flags=re.MULTILINE)
        assert heading in headings, f"README section {heading!r}: no such heading in docs/{page}"


def test_the_readme_is_a_front_page_under_8_kb() -> None:
    assert len((REPO_ROOT / "README.md").read_bytes()) < 8 * 1024


def test_every_readme_section_is_one_of_those_or_the_readmes_own() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", readme, flags=re.MULTILINE)

    assert set(headings) <= README_SECTIONS.keys() | README_ONLY, "map a new README section to its page above"


# Chromium as the README's test command installs it (Debian's package), with nothing running
# besides the page: no network of its own, no profile shared with another run.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# Simulated time for the page's scripts to settle before the DOM is read; it passes only while
# the page is idle, so it costs no wall time.
SCRIPT_TIME_MS = 5000


@dataclass
class ServedSite:
    url: str
    requests: list[tuple[str, int]] = field(default_factory=list)


class RecordingHandler(SimpleHTTPRequestHandler):
    """Serves the built site, noting each (path, status) the browser asked for."""

    def __init__(self, *args: Any, served: ServedSite, directory: str) -> None:
        self.served = served
        super().__init__(*args, directory=directory)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.served.requests.append((self.path, int(code)))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSite]:
    site_dir = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-4000:]
    served = ServedSite(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(RecordingHandler, served=served, directory=str(site_dir)))
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served
    server.shutdown()
    server.server_close()


def rendered_dom(url: str, profile: Path) -> str:
    """The page's DOM as headless Chromium has it after loading ``url``."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Chromium is not installed: the README's test command (make test) installs it")
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={SCRIPT_TIME_MS}",
         "--dump-dom", url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


@dataclass
class Link:
    href: str
    text: str
    classes: list[str]
    navs: list[list[str]]  # the classes of each <nav> around the link, outermost first


class PageReader(HTMLParser):
    """The parts of a Material for MkDocs page that show it rendered: root classes, headings, navigation links."""

    def __init__(self) -> None:
        super().__init__()
        self.root_classes: list[str] = []
        self.headings: dict[str, str] = {}  # id -> text, of h1 to h3
        self.links: list[Link] = []
        self.code_buttons = 0
        self.cells: list[str] = []  # the text of each table cell
        self._navs: list[list[str]] = []
        self._open: list[tuple[str, Link | None, str | None]] = []  # tag, its link, its heading id
        self._text: dict[int, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "html":
            self.root_classes = classes
        if tag == "nav":
            self._navs.append(classes)
        if tag == "button" and "md-code__button" in classes:
            self.code_buttons += 1
        link = Link(attributes.get("href") or "", "", classes, list(self._navs)) if tag == "a" else None
        heading = (attributes.get("id") or "") if tag in ("h1", "h2", "h3") else None
        if tag in ("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"):
            return
        self._open.append((tag, link, heading))
        self._text[len(self._open)] = []

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            open_tag, link, heading = self._open.pop()
            text = " ".join("".join(self._text.pop(len(self._open) + 1)).split())
            if self._open:
                self._text[len(self._open)].append(text)
            if link is not None:
                link.text = text
                self.links.append(link)
            if heading is not None:
                self.headings[heading] = text.rstrip("¶").strip()
            if open_tag == "td":
                self.cells.append(text)
            if open_tag == "nav":
                self._navs.pop()
            if open_tag == tag:
                return

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text[len(self._open)].append(data)

    def sidebar(self) -> list[Link]:
        """The primary navigation's links to pages (not the table of contents nested in it)."""
        return [
            link
            for link in self.links
            if "md-nav__link" in link.classes
            and any("md-nav--primary" in nav for nav in link.navs)
            and not any("md-nav--secondary" in nav for nav in link.navs)
            and not link.href.startswith("#")
        ]


def read_page(site: ServedSite, page: str, profile: Path) -> PageReader:
    reader = PageReader()
    reader.feed(rendered_dom(f"{site.url}/{page}", profile))
    reader.close()
    return reader


def assert_rendered_with_sidebar(page: PageReader, active: str) -> None:
    # The theme's script ran: it marks the root "js" (the HTML ships "no-js").
    assert "js" in page.root_classes and "no-js" not in page.root_classes
    sidebar = page.sidebar()
    assert [link.text for link in sidebar] == list(site_pages())
    assert [link.href for link in sidebar] == [name.replace(".md", ".html") for name in site_pages().values()]
    assert [link.text for link in sidebar if "md-nav__link--active" in link.classes] == [active]


@pytest.mark.slow
def test_the_start_page_renders_with_its_styles_scripts_and_the_sidebar(site: ServedSite, tmp_path: Path) -> None:
    page = read_page(site, "index.html", tmp_path / "profile")

    assert_rendered_with_sidebar(page, active="Getting started")
    assert page.headings["getting-started"] == "Getting started"
    assert page.headings["two-commands"] == "Two commands"
    assert page.code_buttons >= 3  # added by the theme's script to each code block
    loaded = {re.sub(r"\.[0-9a-f]{8}\.min\.", ".min.", path): status for path, status in site.requests}
    assert loaded["/assets/stylesheets/main.min.css"] == 200
    assert loaded["/assets/javascripts/bundle.min.js"] == 200


@pytest.mark.slow
def test_an_api_page_renders_the_docstrings_with_the_sidebar(site: ServedSite, tmp_path: Path) -> None:
    page = read_page(site, "api.html", tmp_path / "profile")

    assert_rendered_with_sidebar(page, active="API reference")
    assert page.headings["cdk_omics_run.OmicsRun"].startswith("OmicsRun")
    assert page.headings["cdk_omics_run.OmicsRun.attr_id"].startswith("attr_id")
    assert page.headings["cdk_omics_run.OmicsRunBatch.from_sample_sheet"].startswith("from_sample_sheet")
    # OmicsRun's argument fields, written into its docstring at import, as help() shows them.
    assert "workflow_id" in page.cells
    assert any(cell.startswith("The run's workflow ID.") for cell in page.cells)
