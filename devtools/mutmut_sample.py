"""A seeded uniform sample of mutmut's mutants of the promise modules, and its score.

A full `make mutants` run is about 3,350 mutants; on 2 shared cores that is 3+ hours, since a
mutant of a widely used function runs up to ~170 tests. The sample gives an unbiased estimate
of the score (with a 95% interval) in well under an hour, and every survivor in it is triaged.

    python devtools/mutmut_sample.py draw [--n 450] [--seed 26]   # after mutmut has generated
    mutmut run $(cat benchmarks/results/mutmut-sample.txt)
    python devtools/mutmut_sample.py score                         # -> mutmut-sample.json
    # after tests were added: re-run the survivors (and changed functions), then
    python devtools/mutmut_sample.py score --previous earlier.json
(`make mutants-sample` does all three.)

    python devtools/mutmut_sample.py full   # after (part of) `make mutants` -> mutmut-full.json
The full run is resumable (mutmut keeps results in mutants/; `make mutants` skips mutants that
have one). `full` writes where it stands: how many are done, the score so far, and the
survivors, marked as triaged when the sample's triage already covers them.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "benchmarks" / "results" / "mutmut-sample.txt"
SCORE = REPO / "benchmarks" / "results" / "mutmut-sample.json"
FULL = REPO / "benchmarks" / "results" / "mutmut-full.json"
MUTMUT = str(Path(sys.executable).parent / "mutmut")


def statuses() -> dict[str, str]:
    out = subprocess.run([MUTMUT, "results", "--all", "true"], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        name, sep, status = line.strip().partition(": ")
        if sep:
            found[name] = status.strip()
    return found


def module_of(name: str) -> str:
    """assistant.answer.verify.figures.x__figures__mutmut_3 -> assistant.answer.verify.figures"""
    return ".".join(p for p in name.split(".") if not p.startswith("x"))


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def draw(n: int, seed: int) -> None:
    names = sorted(statuses())
    if not names:
        sys.exit("mutmut has no mutants yet: run `mutmut run` once (it generates them first).")
    chosen = sorted(random.Random(seed).sample(names, min(n, len(names))))
    SAMPLE.write_text("".join(f"{c}\n" for c in chosen))
    print(f"{len(chosen)} of {len(names)} mutants (seed {seed}) -> {SAMPLE.relative_to(REPO)}")


def score(previous: Path | None = None) -> None:
    """`previous`: an earlier score of the same sample; a mutant this run did not check (only
    the earlier survivors and the functions changed since were re-run) keeps its earlier
    outcome: caught unless it was among the earlier survivors."""
    found = statuses()
    chosen = SAMPLE.read_text().split()
    if previous is not None:
        earlier = set(json.loads(previous.read_text())["survivors"])
        for c in chosen:
            if found.get(c) == "not checked" and c not in earlier:
                found[c] = "killed"
    counts = Counter(found.get(c, "missing") for c in chosen)
    per_module: dict[str, Counter] = defaultdict(Counter)
    for c in chosen:
        per_module[module_of(c)][found.get(c, "missing")] += 1
    caught = counts["killed"] + counts["timeout"]
    ran = caught + counts["survived"] + counts["no tests"]
    low, high = wilson(caught, ran)
    result = {"population": len(found), "sample": len(chosen), "statuses": dict(counts),
              "score": round(caught / ran, 3) if ran else None,
              "score_95": [round(low, 3), round(high, 3)],
              "survivors": sorted(c for c in chosen if found.get(c) in ("survived", "no tests")),
              "per_module": {m: dict(v) for m, v in sorted(per_module.items())}}
    SCORE.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "survivors"}, indent=1))


def full() -> None:
    """Where the full run stands (it may be partial: "complete" says so)."""
    found = statuses()
    counts = Counter(found.values())
    caught = counts["killed"] + counts["timeout"]
    ran = caught + counts["survived"] + counts["no tests"]
    low, high = wilson(caught, ran)
    triaged = set(json.loads(SCORE.read_text())["survivors"]) if SCORE.exists() else set()
    survivors = sorted(n for n, st in found.items() if st in ("survived", "no tests"))
    per_module: dict[str, Counter] = defaultdict(Counter)
    for n, st in found.items():
        per_module[module_of(n)][st] += 1
    result = {"population": len(found), "complete": counts["not checked"] == 0,
              "statuses": dict(counts),
              "score_so_far": round(caught / ran, 3) if ran else None,
              "score_95": [round(low, 3), round(high, 3)],
              "survivors": [{"name": n, "in_sample_triage": n in triaged} for n in survivors],
              "per_module": {m: dict(v) for m, v in sorted(per_module.items())}}
    FULL.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("survivors", "per_module")},
                     indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("draw")
    d.add_argument("--n", type=int, default=450)
    d.add_argument("--seed", type=int, default=26)
    sc = sub.add_parser("score")
    sc.add_argument("--previous", type=Path, help="an earlier score of the same sample")
    sub.add_parser("full")
    args = ap.parse_args()
    if args.cmd == "draw":
        draw(args.n, args.seed)
    elif args.cmd == "full":
        full()
    else:
        score(args.previous)


if __name__ == "__main__":
    main()
