"""Warm start: the first answer of a page opened as soon as the server reports healthy, on the
BBC index, with the server started the old way (`streamlit run app.py`: the model, the index,
the article list and the first corpus walk load when the first session arrives) and the new way
(`app_server.py`, what `make run` starts: all of it loaded before the health endpoint answers).
Both in one run, alternating, so the machine's load hits both alike.

    .venv/bin/python -m benchmarks.bench_warm [--data ../shared/data] [--index /tmp/watch-bbc/index]
        [--rounds 3]

The index is built first when missing (`assistant build`, the BBC corpus). Per start: seconds
until healthy, from opening the page to the chat input, from pressing Enter to the rendered
answer (the bar: within 2 s), and from opening the page to the rendered answer. Writes
benchmarks/results/warm.json; quote the medians.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import data_path, parser, save_result

QUESTION = "How many jets is Ryanair buying from Boeing?"
TIMEOUT_MS = 300_000


def first_answer(url: str) -> dict:
    from devtools.streamlit_server import PLACEHOLDER, chromium

    out = {}
    for browser in chromium():
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        t0 = time.perf_counter()
        page.goto(url)
        box = page.get_by_placeholder(PLACEHOLDER)
        box.wait_for(timeout=TIMEOUT_MS)
        out["open_to_input_s"] = time.perf_counter() - t0
        box.fill(QUESTION)
        t1 = time.perf_counter()
        box.press("Enter")
        reply = page.get_by_test_id("stChatMessage").nth(1)
        reply.locator('.aa-answer, [data-testid="stAlert"]').first.wait_for(timeout=TIMEOUT_MS)
        t2 = time.perf_counter()
        out["submit_to_answer_s"] = t2 - t1
        out["open_to_answer_s"] = t2 - t0
        out["answer_excerpt"] = reply.inner_text()[:160]
    return out


def one_start(corpus: Path, index: Path, warm: bool, work: Path) -> dict:
    from devtools.streamlit_server import StreamlitServer

    data = Path(tempfile.mkdtemp(dir=work))
    server = StreamlitServer(corpus, index, data, work / f"streamlit-{'warm' if warm else 'cold'}.log",
                             warm=warm)
    try:
        healthy = server.wait_healthy(timeout=600)
        result = {"healthy_s": healthy, **first_answer(server.url)}
    finally:
        server.stop()
    return result


def main() -> None:
    ap = parser(description=__doc__)
    ap.add_argument("--index", default="/tmp/watch-bbc/index")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    bbc = data_path(args, "bbc-fulltext", "bbc", what="BBC corpus")
    index = Path(args.index)
    from assistant.config import Settings
    from assistant.service import build_index, index_state

    settings = Settings().replace(corpus_dir=bbc, index_dir=index)
    if index_state(settings).stale:
        print(build_index(settings).summary())
    work = Path(tempfile.mkdtemp(prefix="bench-warm-"))
    runs: dict[str, list[dict]] = {"before (streamlit run app.py)": [],
                                   "after (app_server.py, make run)": []}
    for r in range(args.rounds):
        for name, warm in zip(runs, (False, True)):
            res = one_start(bbc, index, warm, work)
            runs[name].append(res)
            print(f"round {r + 1} {name}: " + ", ".join(
                f"{k} {v:.2f}" for k, v in res.items() if k.endswith("_s")), flush=True)
    keys = ("healthy_s", "open_to_input_s", "submit_to_answer_s", "open_to_answer_s")
    result = {"corpus": "BBC full text (2,225 articles)", "question": QUESTION,
              "rounds": args.rounds, "runs": runs,
              "median": {name: {k: round(statistics.median(r[k] for r in rs), 2) for k in keys}
                         for name, rs in runs.items()}}
    after = result["median"]["after (app_server.py, make run)"]
    result["bar_2s_met"] = after["submit_to_answer_s"] <= 2.0
    for name, med in result["median"].items():
        print(f"median {name}: {med}")
    print(f"written {save_result('warm', result)}")


if __name__ == "__main__":
    main()
