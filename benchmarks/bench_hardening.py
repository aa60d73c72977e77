"""Issue 27 figures: what the hardening costs and what it bounds.

- parse worker: reading N small PDFs and N small .docx in the build's own process vs through the
  one parse worker process (loaders/isolate.py), median of --runs, so the cost for corpora of
  thousands of small files is known;
- bombs: seconds until each of the review's bombs (devtools/bombs.py) is refused;
- verifier: split_claims and the figure patterns on the review's adversarial inputs (20,000
  dashes, a 60,000-character reply, 3,000 sentences), whole and streamed.

    python -m benchmarks.bench_hardening [--files 200] [--runs 3]
Writes benchmarks/results/hardening.json."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from assistant.answer.verify import figures
from assistant.answer.verify.claims import ClaimStream, split_claims
from assistant.errors import UnreadableSource
from assistant.loaders import DEFAULT_LIMITS, ParseWorker, load_article
from devtools import bombs
from devtools.samples_pdf import make_pdf

RESULTS = Path(__file__).resolve().parent / "results" / "hardening.json"


def _docx(path: Path, i: int) -> None:
    import docx

    d = docx.Document()
    d.add_heading(f"Harbour report {i}", 1)
    d.add_paragraph("Trade through the harbour grew again this year, and the port handled more "
                    "containers than in any year before.")
    d.save(path)


def _time(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def parse_cost(folder: Path, n: int, runs: int) -> dict:
    files = []
    for i in range(n):
        p = folder / f"doc{i}.pdf"
        p.write_bytes(make_pdf([[f"Harbour report {i}", "Trade through the harbour grew again "
                                 "this year, and the port handled more containers."]]))
        files.append(p)
        q = folder / f"doc{i}.docx"
        _docx(q, i)
        files.append(q)

    def inline():
        for p in files:
            load_article(p, p.name)

    def worker():
        with ParseWorker(DEFAULT_LIMITS) as w:
            for p in files:
                load_article(p, p.name, worker=w)

    a = [_time(inline) for _ in range(runs)]
    b = [_time(worker) for _ in range(runs)]
    return {"files": len(files), "in_process_s": statistics.median(a),
            "worker_s": statistics.median(b), "runs": runs,
            "worker_extra_ms_per_file": (statistics.median(b) - statistics.median(a))
            / len(files) * 1000}


def bomb_times(folder: Path) -> dict:
    made = {"word-bomb.docx": bombs.docx_bomb, "shared-stream.pdf": bombs.pdf_shared_stream,
            "page-tree.pdf": bombs.pdf_page_tree_repeat}
    out = {}
    for name, make in made.items():
        p = make(folder / name)
        t = time.perf_counter()
        try:
            load_article(p, name)
            reason = None
        except UnreadableSource as exc:
            reason = exc.reason
        out[name] = {"bytes_on_disk": p.stat().st_size, "refused_after_s":
                     time.perf_counter() - t, "reason": reason}
    return out


def verifier_times() -> dict:
    sentence = "The DEA and Mexico's Federal Police will lead the efforts [1]. "
    cases = {"20,000 dashes": "-" * 20_000, "60,000 dots": "." * 60_000 + "x",
             "60,000-character line": "a" * 60_000 + ". B",
             "3,000 cited sentences": sentence * 3000}
    out = {}
    for name, text in cases.items():
        def streamed(text=text):
            cs = ClaimStream()
            for i in range(0, len(text), 4):
                cs.feed(text[i:i + 4])
            cs.close()
        out[name] = {"chars": len(text),
                     "split_claims_s": _time(lambda text=text: split_claims(text)),
                     "stream_4_char_pieces_s": _time(streamed),
                     "figures_s": _time(lambda text=text: figures._figures(text, claim=True))}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=200, help="small PDFs and .docx each")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "small").mkdir()
        (tmp / "bombs").mkdir()
        res = {"parse_worker": parse_cost(tmp / "small", args.files, args.runs),
               "bombs": bomb_times(tmp / "bombs"), "verifier": verifier_times()}
    RESULTS.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
