"""Freshness in the browser: with `assistant watch` running beside the app, a new article
dropped into the corpus shows up on an open page (the sidebar's counts and an answer from it)
without anyone pressing a button or reloading. Headless Chromium over the real app server
started as `make run` starts it (app_server.py), the real watcher command and the real model."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.service import build_index
from devtools.streamlit_server import CHROMIUM, PLACEHOLDER, StreamlitServer, chromium
from devtools.ui_samples import REPO, make_corpus

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: browser tests skipped", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

PENGUIN = """Penguin Census Report
Emperor Colony Findings
The Antarctic survey counted 4,812 emperor penguins at the Halley Bay colony in 2023. The count was led by biologist Marta Quillon from the polar institute.
"""
WAIT_MS = 240_000  # model loads and builds on a busy 2-core machine


def test_new_article_appears_on_an_open_page_with_the_watcher_on(tmp_path, embedder):
    root = tmp_path / "site"
    corpus = make_corpus(root / "corpus", hostile=False)
    index, data = root / "index", root / "data"
    data.mkdir()
    from assistant.config import Settings

    settings = Settings().replace(corpus_dir=corpus, index_dir=index, data_dir=data)
    build_index(settings, embedder=embedder, log=lambda m: None, progress=False)
    env = {**os.environ, "PYTHONPATH": str(REPO), "ASSISTANT_CORPUS_DIR": str(corpus),
           "ASSISTANT_INDEX_DIR": str(index), "ASSISTANT_DATA_DIR": str(data),
           "HF_HUB_OFFLINE": "1"}
    watcher = subprocess.Popen([sys.executable, "-m", "assistant.cli", "watch", "--debounce", "1",
                                "--poll", "0.2"], env=env, cwd=REPO,
                               stderr=open(tmp_path / "watch.log", "w"))  # noqa: SIM115
    server = StreamlitServer(corpus, index, data, tmp_path / "streamlit.log",
                             env={"ASSISTANT_REFRESH_SECONDS": "2"}, warm=True)
    try:
        server.wait_healthy(timeout=300)
        for browser in chromium():
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server.url)
            page.get_by_placeholder(PLACEHOLDER).wait_for(timeout=WAIT_MS)
            sidebar = page.get_by_test_id("stSidebar")
            expect(sidebar).to_contain_text("1 articles", timeout=WAIT_MS)
            expect(sidebar).to_contain_text("Last updated:")
            expect(sidebar).to_contain_text("The watcher is running", timeout=WAIT_MS)

            (corpus / "penguins.txt").write_text(PENGUIN, encoding="utf-8")
            # No click, no reload: the page follows the watcher's build by itself.
            expect(sidebar).to_contain_text("2 articles", timeout=WAIT_MS)
            expect(sidebar).not_to_contain_text("out of date")
            box = page.get_by_placeholder(PLACEHOLDER)
            box.fill("How many emperor penguins were counted at Halley Bay?")
            box.press("Enter")
            reply = page.get_by_test_id("stChatMessage").nth(1)
            expect(reply).to_contain_text("4,812", timeout=WAIT_MS)
            expect(reply).to_contain_text("Penguin Census Report")
            page.screenshot(path=str(tmp_path / "fresh.png"))
    finally:
        server.stop()
        watcher.send_signal(signal.SIGTERM)
        try:
            watcher.wait(60)
        except subprocess.TimeoutExpired:
            watcher.kill()
    assert watcher.returncode == 0, (tmp_path / "watch.log").read_text()
    assert "1 added (penguins.txt)" in (tmp_path / "watch.log").read_text()
