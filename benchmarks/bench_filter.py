"""The app at 100,000 articles: a synthetic archive (devtools/synthetic_corpus.py, stand-in
vectors) served by `streamlit run app.py` and opened in headless Chromium.

Measured, each in a fresh browser context:
- cold: the first page after the server started (it loads the model and the index);
- warm: further pages (`--pages` of them): from `goto` until the chat input is enabled and the
  sidebar's article filter is shown ("usable");
- the filter: typing a title word of a planted article until the page lists it, choosing it, and
  asking a question that another planted article would answer: the reply must cite only the
  chosen article;
- how many article labels the server sent the page (websocket frames), against the index size.

    .venv/bin/python -m benchmarks.bench_filter --articles 100000 --work /tmp/synthetic-100k

Writes benchmarks/results/filter.json (format of write_report.section_generic).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

from devtools.streamlit_server import CHROMIUM, PLACEHOLDER, StreamlitServer, chromium
from devtools.synthetic_corpus import PLANTED, TOPICS, make_site

HERE = Path(__file__).resolve().parent
USABLE_JS = """() => {
  const t = document.querySelector('[data-testid="stChatInputTextArea"]');
  const f = document.querySelector('[data-testid="stSidebar"] input[placeholder^="Words of a"]');
  return !!t && !t.disabled && !!f; }"""
LABEL = re.compile(rb"\((?:%s)/\d{4}/\d\d/[\w.-]+\.txt\)" % b"|".join(t.encode() for t in TOPICS))


def open_page(browser, url: str, received: list[bytes]):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(300_000)
    page.on("websocket", lambda ws: ws.on("framereceived", lambda d: received.append(
        d if isinstance(d, bytes) else d.encode())))
    t = time.perf_counter()
    page.goto(url)
    page.wait_for_function(USABLE_JS, polling=50)
    return context, page, time.perf_counter() - t


def filter_check(page) -> dict:
    """Type a title word, choose the article, ask: the timings and what the reply cited."""
    telescope, brewery = PLANTED[0][0], PLANTED[1][0]
    side = page.get_by_test_id("stSidebar")
    box = side.get_by_placeholder("Words of a title or file name")
    t = time.perf_counter()
    box.fill("zephyrine")
    box.press("Enter")
    side.get_by_text("1 matching article(s)").wait_for()
    found_s = time.perf_counter() - t
    side.get_by_test_id("stMultiSelect").locator("input").click()
    page.get_by_role("option", name="Zephyrine telescope").click()
    page.keyboard.press("Escape")
    page.get_by_text("Searching 1 chosen article(s) only").wait_for()
    chat = page.get_by_placeholder(PLACEHOLDER)
    chat.fill("Who bought the Quillmarsh brewery?")
    t = time.perf_counter()
    chat.press("Enter")
    reply = page.get_by_test_id("stChatMessage").nth(1)
    reply.locator('.aa-answer, [data-testid="stAlert"]').first.wait_for()
    answer_s = time.perf_counter() - t
    files = reply.locator(".aa-src-file").all_inner_texts()
    return {"find_s": round(found_s, 2), "answer_s": round(answer_s, 2), "cited_files": files,
            "only_chosen": bool(files) and all(f == telescope for f in files),
            "other_article_shown": brewery in reply.inner_text()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--work", required=True, help="corpus and index folder (reused)")
    ap.add_argument("--pages", type=int, default=5, help="warm page opens to time")
    ap.add_argument("--out", default=str(HERE / "results" / "filter.json"))
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    work = Path(args.work)
    corpus, index, info = make_site(work, args.articles)
    server = StreamlitServer(corpus, index, work / "data", work / "streamlit.log")
    try:
        healthy_s = server.wait_healthy()
        for browser in chromium():
            received: list[bytes] = []
            context, page, cold_s = open_page(browser, server.url, received)
            context.close()
            warm, sent = [], []
            for _ in range(args.pages):
                received.clear()
                context, page, s = open_page(browser, server.url, received)
                warm.append(s)
                page.wait_for_timeout(500)  # the run's last messages
                sent.append(len(set(LABEL.findall(b"".join(received)))))
                context.close()
            context, page, _ = open_page(browser, server.url, received)
            check = filter_check(page)
            context.close()
    finally:
        server.stop()
    median = statistics.median(warm)
    result = {
        "command": "python -m benchmarks.bench_filter " + " ".join(sys.argv[1:]),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "table": [
            ["articles", "page usable, warm (median)", "first page after start",
             "labels sent to a page", "title word → listed", "filtered question → reply",
             "reply cites only the chosen article"],
            [f"{info['articles']:,}", f"{median:.2f} s", f"{cold_s:.1f} s", max(sent),
             f"{check['find_s']} s", f"{check['answer_s']} s",
             "yes" if check["only_chosen"] and not check["other_article_shown"] else "NO"],
        ],
        "notes": [
            f"Synthetic archive: {info['articles']:,} generated articles in "
            f"{len(TOPICS)} topic folders with dates in their paths, and {len(PLANTED)} planted "
            "ones; vectors are stand-ins (random, seeded by the text), since this checks the "
            f"page, not answer quality. Build {info['build_s']} s (reused when --work has it).",
            f"Usable: from `goto` until the chat input is enabled and the article filter is "
            f"shown, in a fresh Chromium context; warm = a server that has served a page "
            f"before, {args.pages} pages: {', '.join(f'{s:.2f}' for s in warm)} s. The first "
            f"page after start waits for the model and the index to load (server healthy "
            f"after {healthy_s:.1f} s).",
            "Labels sent: distinct article labels in the websocket frames a page received "
            "(the filter lists the first 50 matches; the multiselect it replaced sent all).",
            "The filter: typing \"zephyrine\" (a word of one planted title) until the page says "
            "1 matching article; then, with that article chosen, a question about the other "
            "planted article (which answers it without the filter): cited "
            f"{check['cited_files']}.",
            f"Machine: {os.cpu_count()} cores shared with other work; load average at the end "
            f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}.",
        ],
        "figures": {"warm_s": warm, "cold_s": cold_s, "labels_sent": sent, **check,
                    "index": info},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{info['articles']} articles: usable in {median:.2f} s warm (median of "
          f"{len(warm)}), {cold_s:.1f} s cold; {max(sent)} labels sent; filter {check}")
    print(f"wrote {out}")
    return 0 if check["only_chosen"] and not check["other_article_shown"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
