"""Index build speed on the BBC corpus (2,225 articles) against the machine's ceiling.

    .venv/bin/python -m benchmarks.bench_build [--data ../shared/data] [--limit N]

In one run: the float32 matmul rate of this machine (torch, the library the model runs on), the
model's FLOPs per token derived from its shape, hence its float32 ceiling in tokens/s; then a full
build in the default precision (ASSISTANT_PRECISION=auto: bf16 where the CPU has it natively), a
no-change rebuild and a one-file-changed rebuild, each in a fresh process (so start-up and imports
count, as they do for a user), and, unless --no-fp32, a full float32 build of the same corpus for
comparison. Writes benchmarks/results/build.json.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import HERE, ROOT, data_path, parser


def matmul_gflops(threads: int, n: int = 2048, repeats: int = 7) -> float:
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(5):
            a @ b
        rates.append(2 * n**3 * 5 / (time.perf_counter() - t) / 1e9)
    return statistics.median(rates)


def model_flops_per_token(mean_len: float) -> dict:
    """Dense layers: 2 FLOPs per weight per token; attention scores and mixing: 4*L*H per token
    per layer (QK^T and AV), with L the mean sequence length actually fed."""
    from transformers import AutoConfig

    from assistant.embedding import model_path

    cfg = AutoConfig.from_pretrained(model_path())
    h, inter, layers = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers
    dense = 2 * (4 * h * h + 2 * h * inter) * layers
    attention = 4 * mean_len * h * layers
    return {"hidden": h, "intermediate": inter, "layers": layers, "dense_flops": dense,
            "attention_flops": attention, "flops_per_token": dense + attention}


BUILD_SNIPPET = """
import json, resource, sys, time
t0 = time.perf_counter()
from pathlib import Path
from assistant.config import Settings
from assistant.index.builder import build
s = Settings().replace(corpus_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2]))
r = build(s, log=lambda m: None, progress=False)
out = {k: getattr(r, k) for k in ("articles", "sections", "chunks", "tokens", "embedded_chunks",
       "embedded_tokens", "reused_files", "parsed_files", "removed_files", "embed_seconds",
       "up_to_date")}
out["skipped"] = len(r.skipped)
out["precision"] = json.loads((r.build_dir / "manifest.json").read_text())["precision"]
out["build_seconds"] = r.seconds
out["process_seconds"] = time.perf_counter() - t0
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def run_build(corpus: Path, index: Path, precision: str = "auto") -> dict:
    t = time.perf_counter()
    env = {**os.environ, "ASSISTANT_PRECISION": precision}
    proc = subprocess.run([sys.executable, "-c", BUILD_SNIPPET, str(corpus), str(index)],
                          capture_output=True, text=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(proc.stderr[-2000:])
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["wall_seconds"] = wall
    return res


def false_headings(files: list[Path]) -> tuple[int, list[str]]:
    """BBC articles are a headline and paragraphs: any heading the plain-text rule finds is false."""
    from assistant.loaders import load_article

    hits = []
    for p in files:
        art = load_article(p, p.name)
        if any(s.heading_path for s in art.sections):
            hits.append(f"{p.parent.name}/{p.name}: " + "; ".join(
                " › ".join(s.heading_path) for s in art.sections if s.heading_path))
    return len(hits), hits


def main() -> None:
    ap = parser()
    ap.add_argument("--limit", type=int, default=0, help="only the first N articles (a smoke run)")
    ap.add_argument("--out", default=str(HERE / "results" / "build.json"))
    ap.add_argument("--no-fp32", action="store_true", help="skip the float32 comparison build")
    args = ap.parse_args()
    bbc = data_path(args, "bbc-fulltext", "bbc", what="BBC corpus")
    from assistant.config import Settings

    threads = Settings().threads or os.cpu_count() or 1
    files = sorted(p for p in bbc.rglob("*.txt"))
    if args.limit:
        files = files[: args.limit]
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        corpus, index = Path(tmp) / "corpus", Path(tmp) / "index"
        for p in files:
            dest = corpus / p.relative_to(bbc)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dest)
        rate_before = matmul_gflops(threads)
        full = run_build(corpus, index)
        rate_after = matmul_gflops(threads)
        nochange = run_build(corpus, index)
        victim = corpus / files[len(files) // 2].relative_to(bbc)
        victim.write_text(victim.read_text(encoding="latin-1") + "\nOne more paragraph, added for the benchmark.\n",
                          encoding="latin-1")
        onefile = run_build(corpus, index)
        fp32 = None if args.no_fp32 else run_build(corpus, Path(tmp) / "index-fp32", "fp32")
    rate = statistics.median([rate_before, rate_after])
    n_false, false_list = false_headings(files)
    mean_len = full["embedded_tokens"] / max(1, full["embedded_chunks"])
    shape = model_flops_per_token(mean_len)
    ceiling = rate * 1e9 / shape["flops_per_token"]
    tokens_per_s = full["embedded_tokens"] / full["build_seconds"]
    result = {
        "command": "python -m benchmarks.bench_build" + (f" --limit {args.limit}" if args.limit else ""),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "threads": threads, "files": len(files),
        "matmul_gflops": {"before": rate_before, "after": rate_after, "median": rate},
        "model": shape, "mean_tokens_per_chunk": mean_len,
        "ceiling_tokens_per_s": ceiling,
        "full": full, "no_change": nochange, "one_file_changed": onefile,
        "full_tokens_per_s": tokens_per_s,
        "full_chunks_per_s": full["embedded_chunks"] / full["build_seconds"],
        "share_of_ceiling": tokens_per_s / ceiling,
        "precision": full["precision"],
        "embed_only_share_of_ceiling": full["embedded_tokens"] / full["embed_seconds"] / ceiling,
        "no_change_share_of_full": nochange["wall_seconds"] / full["wall_seconds"],
        "one_file_share_of_full": onefile["wall_seconds"] / full["wall_seconds"],
        "fp32_full": fp32,
        "fp32_full_tokens_per_s": fp32 and fp32["embedded_tokens"] / fp32["build_seconds"],
        "fp32_share_of_ceiling": fp32 and fp32["embedded_tokens"] / fp32["build_seconds"] / ceiling,
        "speedup_over_fp32_build": fp32 and fp32["build_seconds"] / full["build_seconds"],
        "false_headings": n_false, "false_heading_examples": false_list,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
