"""The docs site: MkDocs (pinned in requirements-dev.txt) builds it in strict mode, so a broken
link or anchor, or a page left out of the nav, fails; Debian's Chromium then opens the home page
and the configuration page as served over HTTP, and every heading and table of their Markdown
must be laid out on screen."""
from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pulumi_geostack.config import SETTINGS
from offline.program_run import PROJECT_ROOT
from tests.docs.headless_chromium import chromium

DOCS = PROJECT_ROOT / "docs"

# What a reader sees of the page: each heading of the content and each table, with whether the
# browser gave it a box on screen.
MEASURE = """(() => {
  const main = document.querySelector('[role=main]');
  const shown = e => { const box = e.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(e).visibility !== 'hidden'; };
  return {
    headings: [...main.querySelectorAll('h1, h2')].map(h => ({
      level: Number(h.tagName[1]), text: h.textContent.replace('\u00b6', '').trim(), shown: shown(h)})),
    tables: [...main.querySelectorAll('table')].map(t => ({
      header: [...t.tHead.rows[0].cells].map(c => c.textContent.trim()),
      rows: t.tBodies[0].rows.length, shown: shown(t)})),
  };
})()"""


def _build(project: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          cwd=project, capture_output=True, text=True, timeout=300)


def _outline(page: Path) -> dict:
    """The h1/h2 headings and the tables (header cells, body rows) of a Markdown page, as written."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    headings = [{"level": len(hashes), "text": title.replace("`", "")}
                for hashes, title in re.findall(r"^(#{1,2}) (.+)$", text, re.M)]
    tables = []
    for block in re.findall(r"((?:^\|.*\|\n)+)", text, re.M):
        rows = block.splitlines()
        tables.append({"header": [cell.strip() for cell in rows[0].strip("|").split("|")], "rows": len(rows) - 2})
    return {"headings": headings, "tables": tables}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    built = _build(PROJECT_ROOT, site)
    assert built.returncode == 0, built.stderr
    return site


@pytest.fixture(scope="module")
def served(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_every_page_under_docs_is_built(site):
    pages = {page.relative_to(DOCS).with_suffix("") for page in DOCS.rglob("*.md")}
    for page in pages:
        folder = page.parent if page.name in ("index", "README") else page
        assert (site / folder / "index.html").is_file(), page


def test_strict_mode_refuses_a_broken_link_and_a_missing_anchor(tmp_path):
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", tmp_path)
    with (tmp_path / "docs" / "index.md").open("a") as index:
        index.write("\n[gone](no-such-page.md) and [moved](operations.md#no-such-section)\n")
    built = _build(tmp_path, tmp_path / "site")
    assert built.returncode != 0
    assert "'no-such-page.md'" in built.stderr and "'#no-such-section'" in built.stderr, built.stderr


@pytest.mark.parametrize("page, path", [("index.md", "/"), ("configuration.md", "/configuration/")])
def test_chromium_lays_out_every_heading_and_table_of_the_page(served, page, path):
    with chromium() as browser:
        seen = browser.measure(served + path, MEASURE)
    written = _outline(DOCS / page)
    assert [{"level": h["level"], "text": h["text"]} for h in seen["headings"]] == written["headings"]
    assert [{"header": t["header"], "rows": t["rows"]} for t in seen["tables"]] == written["tables"]
    assert all(h["shown"] for h in seen["headings"]) and all(t["shown"] for t in seen["tables"]), seen


def test_the_configuration_page_shows_a_row_for_every_key(served):
    with chromium() as browser:
        rows = browser.measure(served + "/configuration/",
                               "[...document.querySelectorAll('[role=main] table')[0].tBodies[0].rows]"
                               ".map(row => row.cells[0].textContent)")
    assert rows == [f"geostack:{setting.key}" for setting in SETTINGS]
