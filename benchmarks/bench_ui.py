"""UI timings in a real browser (headless Chromium driven by Playwright):

(a) launch: from starting `streamlit run app.py ...` (index already built) to the first answer
    visible in the browser. The browser is already open, like a user's; one untimed launch
    warms the machine's file caches first.
(b) answer: submit (Enter) -> the answer (or abstention) rendered, over 20 questions asked in
    one conversation on a loaded app, so later questions also re-render a growing history.

For comparison it also times `Assistant.ask` alone on the same questions (no UI).
Writes benchmarks/results/ui.json.

    .venv/bin/python -m benchmarks.bench_ui [--runs 3] [--corpus corpus]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

from devtools.streamlit_server import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    PLACEHOLDER,
    StreamlitServer,
    percentile,
)
from devtools.ui_samples import BENCH_QUESTIONS  # noqa: E402

FIRST_QUESTION = "Who will lead the coordinated efforts?"
QUESTIONS = BENCH_QUESTIONS
REPLY_JS = """([n]) => {
  const m = document.querySelectorAll('[data-testid="stChatMessage"]');
  return m.length > n + 1 && !!m[n + 1].querySelector('.aa-answer, [data-testid="stAlert"]');
}"""
IDLE_JS = """() => { const t = document.querySelector('[data-testid="stChatInputTextArea"]');
                     return !!t && !t.disabled; }"""


def ask(page, question: str, timeout_ms: int = 300_000) -> float:
    """Submit a question; seconds until its reply is rendered. Waits for the run to end after."""
    n = page.locator('[data-testid="stChatMessage"]').count()
    box = page.get_by_placeholder(PLACEHOLDER)
    box.fill(question)
    t = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(REPLY_JS, arg=[n], polling="raf", timeout=timeout_ms)
    dt = time.perf_counter() - t
    page.wait_for_function(IDLE_JS, timeout=timeout_ms)
    return dt


def launch_once(browser, corpus, index, data, log) -> dict:
    """Start the server, open the page, ask one question: the phases in seconds from launch."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    server = StreamlitServer(corpus, index, data, log)
    try:
        healthy = server.wait_healthy()
        page.goto(server.url)
        page.get_by_placeholder(PLACEHOLDER).wait_for(timeout=300_000)
        ready = time.perf_counter() - server.t0
        answer = ask(page, FIRST_QUESTION)
        total = time.perf_counter() - server.t0
        # ask() also waited for the run to finish; the answer was visible `answer` s after submit
        visible = ready + answer
        return {"server_healthy_s": round(healthy, 2), "input_visible_s": round(ready, 2),
                "first_answer_visible_s": round(visible, 2), "run_finished_s": round(total, 2)}
    finally:
        context.close()
        server.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="timed launches (after one warm-up)")
    ap.add_argument("--corpus", default=str(REPO / "corpus"))
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "ui.json"))
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from playwright.sync_api import sync_playwright

    from assistant.config import Settings
    from assistant.index.builder import build

    work = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    try:
        corpus = work / "corpus"
        shutil.copytree(args.corpus, corpus)
        settings = Settings().replace(corpus_dir=corpus, index_dir=work / "index",
                                      data_dir=work / "data")
        t = time.perf_counter()
        report = build(settings, log=lambda m: None)
        print(f"index built in {time.perf_counter() - t:.1f}s: {report.articles} articles, "
              f"{report.chunks} chunks")

        launches = []
        answers: list[float] = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                         headless=True)
            try:
                print("warm-up launch (not counted) ...")
                launch_once(browser, corpus, settings.index_dir, settings.data_dir,
                            work / "warmup.log")
                for i in range(args.runs):
                    r = launch_once(browser, corpus, settings.index_dir, settings.data_dir,
                                    work / f"launch{i}.log")
                    print(f"launch {i + 1}: {r}")
                    launches.append(r)

                # (b) 20 questions in one conversation on a warm server
                server = StreamlitServer(corpus, settings.index_dir, settings.data_dir, work / "answers.log")
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                try:
                    server.wait_healthy()
                    page = context.new_page()
                    page.goto(server.url)
                    page.get_by_placeholder(PLACEHOLDER).wait_for(timeout=300_000)
                    # the input shows before the model is loaded; time answers on a loaded app
                    page.get_by_role("button", name="Download as Markdown").wait_for(
                        timeout=300_000)
                    page.wait_for_function(IDLE_JS, timeout=300_000)
                    for q in QUESTIONS:
                        dt = ask(page, q)
                        answers.append(dt)
                        print(f"  {dt * 1000:7.0f} ms  {q}")
                finally:
                    context.close()
                    server.stop()
            finally:
                browser.close()

        # the library alone on the same questions, for comparison
        from assistant.service import Assistant

        assistant = Assistant.open(settings=settings)
        assistant.ask("warm up")
        lib = []
        abstained = 0
        for q in QUESTIONS:
            t = time.perf_counter()
            a = assistant.ask(q)
            lib.append(time.perf_counter() - t)
            abstained += a.abstained
    finally:
        shutil.rmtree(work, ignore_errors=True)

    first = [r["first_answer_visible_s"] for r in launches]
    ms = [a * 1000 for a in answers]
    result = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(),
                    "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
                    "python": platform.python_version(), "platform": platform.platform()},
        "corpus": {"articles": report.articles, "chunks": report.chunks},
        "launch_to_first_answer": {
            "runs": launches, "median_s": round(statistics.median(first), 2),
            "min_s": round(min(first), 2), "max_s": round(max(first), 2),
            "question": FIRST_QUESTION,
            "note": "from Popen(streamlit run) to the answer visible in an already open browser; "
                    "one untimed warm-up launch before",
        },
        "answer_in_browser_ms": {
            "n": len(ms), "p50": round(percentile(ms, 0.5)), "p90": round(percentile(ms, 0.9)),
            "mean": round(statistics.mean(ms)), "min": round(min(ms)), "max": round(max(ms)),
            "first_10_p50": round(percentile(ms[:10], 0.5)), "last_10_p50": round(percentile(ms[10:], 0.5)),
            "each": [round(x) for x in ms],
            "note": "submit (Enter) -> reply rendered, 20 questions in one conversation",
        },
        "library_ask_ms": {"p50": round(percentile([x * 1000 for x in lib], 0.5), 1),
                           "p90": round(percentile([x * 1000 for x in lib], 0.9), 1),
                           "abstained": abstained},
        "questions": QUESTIONS,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    launch = result["launch_to_first_answer"]
    print(f"\nlaunch -> first answer visible: median {launch['median_s']} s "
          f"(runs: {first})")
    a = result["answer_in_browser_ms"]
    print(f"answer in browser: p50 {a['p50']} ms, p90 {a['p90']} ms over {a['n']} questions "
          f"(first 10 p50 {a['first_10_p50']} ms, last 10 p50 {a['last_10_p50']} ms)")
    print(f"library ask alone: p50 {result['library_ask_ms']['p50']} ms; "
          f"{abstained}/{len(QUESTIONS)} abstained")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
