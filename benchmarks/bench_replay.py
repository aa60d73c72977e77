"""The LLM reader end to end on recorded replies of a capable model (issue 21): the replies in
benchmarks/realistic/replies-<set>.jsonl (written once to the exact prompts `assistant ask --llm`
sends; see benchmarks/realistic/README.md) are served by a local OpenAI-compatible endpoint
(devtools.llm_servers.ScriptedServer), keyed by the question as the prompt states it, and every
question is asked through `Assistant.ask(question, history, llm=True)` on today's index.

    .venv/bin/python -m benchmarks.bench_llm --replay benchmarks/realistic/replies-seed.jsonl \\
        --replay benchmarks/realistic/replies-bbc.jsonl [--data ../shared/data] [--work DIR]

Citations are remapped: each recorded [n] names a passage by its text (prompts-<set>.jsonl keeps
the passages as sent); it becomes the number that passage has in today's prompt, or a number
beyond today's passages when today's retrieval no longer returns it (so the verifier drops it).
The variants (variants-<set>.jsonl: one true and one false sentence) are replayed the same way.

Reports, per set:
- fact in the cited answer: answerable questions the recorded model answered, whose shown
  answer (mode llm) holds an expected answer;
- near misses abstained: questions the recorded model declined, answered "no clear answer";
- true sentences shown: supported sentences of the replies (and the variants' true companions);
- false sentences shown, per kind (figure, name, invented, wrong_passage, reversal).
Writes benchmarks/results/llm-replay.json.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

from benchmarks.common import ROOT, data_path, save_result

KINDS = ("figure", "name", "invented", "wrong_passage", "reversal")
_MARK = re.compile(r"\[(\d+)\]")


def _jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def asked(user_content: str) -> str:
    """The question as the prompt states it (with the earlier question, for a follow-up)."""
    return user_content.rsplit("\n\nQuestion: ", 1)[-1].strip()


def remap(reply: str, recorded: list[dict], today: dict[int, str]) -> str:
    """`reply` with each [n] renumbered from the recorded passages to today's prompt."""
    by_text = {" ".join(t.split()): n for n, t in today.items()}
    spare = max(today, default=0) + 1

    def one(m: re.Match) -> str:
        n = int(m.group(1))
        if not 1 <= n <= len(recorded):
            return m.group(0)
        return f"[{by_text.get(' '.join(recorded[n - 1]['text'].split()), spare)}]"

    return _MARK.sub(one, reply)


class Replayer:
    """The scripted endpoint's answer to each chat request: the recorded (or variant) reply for
    the question it asks, with remapped markers."""

    def __init__(self, prompts: dict[str, dict], verdicts: dict[str, str] | None = None):
        self.by_question = {asked(p["messages"][-1]["content"]): p for p in prompts.values()}
        self.reply: dict[str, str] = {}  # question id -> reply text to serve now
        self.unknown: list[str] = []
        self.remapped = 0
        # ASSISTANT_LLM_VERIFY=model: the check requests, answered by recorded verdicts (keyed
        # by the request), and those that had none (written out for the writers).
        self.verdicts = verdicts or {}
        self.pending: dict[str, list[dict]] = {}

    def __call__(self, body: dict):
        from assistant.answer.verify.model_check import CHECK_PROMPT
        from benchmarks.bench_model_check import request_key
        from devtools.llm_servers import Error, Reply, prompt_passages

        if body["messages"][0].get("content") == CHECK_PROMPT:
            key = request_key(body["messages"])
            if key not in self.verdicts:
                self.pending[key] = body["messages"]
                return Reply("no recorded verdict")  # unreadable: every sentence unsupported
            return Reply(self.verdicts[key])
        q = asked(body["messages"][-1]["content"])
        p = self.by_question.get(q)
        if p is None or p["id"] not in self.reply:
            self.unknown.append(q)
            return Error(404, f"no recorded reply for {q!r}")
        text = remap(self.reply[p["id"]], p["passages"], prompt_passages(body))
        self.remapped += text != self.reply[p["id"]]
        return Reply(text, piece_chars=48)


def shown_sentence(sentence: str, answer) -> bool:
    from assistant.answer import verify

    if answer.mode != "llm" or answer.abstained:
        return False
    claims = verify.split_claims(sentence)
    shown = {c.text for c in verify.split_claims(answer.text)}
    return bool(claims) and all(c.text in shown for c in claims)


def run_set(name: str, replies_file: Path, assistant, server, replayer: Replayer) -> dict:
    from assistant.eval import contains_answer

    folder = replies_file.parent
    prompts = {p["id"]: p for p in _jsonl(folder / f"prompts-{name}.jsonl")}
    replies = {r["id"]: r for r in _jsonl(replies_file) if r["id"] in prompts}
    variants = [v for v in _jsonl(folder / f"variants-{name}.jsonl") if v["question_id"] in replies]
    replayer.by_question.update({asked(p["messages"][-1]["content"]): p for p in prompts.values()})
    rows, true_shown, true_n = [], 0, 0
    fact, fact_n, near, near_n = 0, 0, 0, 0
    for qid, r in replies.items():
        p = prompts[qid]
        replayer.reply[qid] = r["reply"]
        a = assistant.ask(p["question"], history=p.get("history") or [], llm=True)
        row = {"id": qid, "declined_recorded": bool(r.get("declined")), "tier": a.tier,
               "mode": a.mode, "declined": bool((a.llm or {}).get("declined")),
               "answer": a.text, "dropped": (a.llm or {}).get("dropped")}
        if r.get("declined"):
            near_n += 1
            near += a.tier == "abstain" and row["declined"]
        else:
            sents = [s for s in r.get("sentences", []) if s.get("label") == "supported"]
            ok = [shown_sentence(s["text"], a) for s in sents]
            true_shown += sum(ok)
            true_n += len(ok)
            row["true_shown"] = f"{sum(ok)}/{len(ok)}"
            answers = (p.get("expected") or {}).get("answers") or []
            if p.get("answerable") and answers:
                fact_n += 1
                row["fact"] = a.mode == "llm" and not a.abstained and contains_answer(a.text, answers)
                fact += row["fact"]
        rows.append(row)
    kinds = {k: {"n": 0, "false_shown": 0, "true_n": 0, "true_shown": 0} for k in KINDS}
    passes = []
    for v in variants:
        p = prompts[v["question_id"]]
        replayer.reply[v["question_id"]] = v["reply"]
        a = assistant.ask(p["question"], history=p.get("history") or [], llm=True)
        k = kinds[v["kind"]]
        k["n"] += 1
        bad = shown_sentence(v["sentence"], a)
        k["false_shown"] += bad
        if bad:
            passes.append({"id": v["id"], "kind": v["kind"], "sentence": v["sentence"]})
        true = v.get("true_sentence") or v.get("companion") or ""
        if true:
            k["true_n"] += 1
            k["true_shown"] += shown_sentence(true, a)
    for qid, r in replies.items():
        replayer.reply[qid] = r["reply"]
    var_true = sum(k["true_shown"] for k in kinds.values())
    var_true_n = sum(k["true_n"] for k in kinds.values())
    return {
        "questions": len(replies), "variants": len(variants),
        "fact_in_cited_answer": {"shown": fact, "n": fact_n, "share": fact / fact_n if fact_n else None},
        "near_misses_abstained": {"abstained": near, "n": near_n,
                                  "share": near / near_n if near_n else None},
        "true_sentences_shown": {"shown": true_shown, "n": true_n,
                                 "share": true_shown / true_n if true_n else None},
        "variant_true_sentences_shown": {"shown": var_true, "n": var_true_n,
                                         "share": var_true / var_true_n if var_true_n else None},
        "false_shown_by_kind": {k: {"shown": x["false_shown"], "n": x["n"]} for k, x in kinds.items()},
        "false_passed": passes, "rows": rows,
    }


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replay", action="append", required=True, help="a replies-<set>.jsonl file")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--work", default="/tmp/assistant-replay")
    ap.add_argument("--verify", choices=("rules", "model"), default=None,
                    help="ASSISTANT_LLM_VERIFY for the run (model: the check requests are "
                         "answered from benchmarks/realistic/judge/verdicts-replay-*.jsonl)")
    args = ap.parse_args(argv)
    from assistant.config import Settings
    from assistant.embedding import Embedder
    from assistant.index.builder import build
    from assistant.service import Assistant
    from devtools.llm_servers import ScriptedServer

    work = Path(args.work)
    base = Settings()
    if args.verify:
        base = base.replace(llm_verify=args.verify)
    embedder = Embedder.from_settings(base)
    from benchmarks import bench_model_check as judge

    replayer = Replayer({}, judge.read_verdicts("replay") if base.llm_verify == "model" else {})
    def shown_path(f: str) -> str:
        p = Path(f).resolve()
        return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else f

    command = "python -m benchmarks.bench_llm " + " ".join(
        f"--replay {shown_path(f)}" for f in args.replay) + (
        f" --verify {args.verify}" if args.verify else "")
    result = {"command": command, "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "verify": base.llm_verify, "sets": {}}
    with ScriptedServer(replayer) as server:
        for f in args.replay:
            path = Path(f)
            name = re.sub(r"^replies-|\.jsonl$", "", path.name)
            if name == "seed":
                corpus = work / "seed-corpus"
                shutil.rmtree(corpus, ignore_errors=True)
                shutil.copytree(ROOT / "corpus", corpus)
            else:
                corpus = data_path(args, "bbc-fulltext", "bbc", what="BBC corpus")
            s = base.replace(corpus_dir=corpus, index_dir=work / f"{name}-index",
                             llm_url=server.base_url, llm_model=server.model, llm_timeout=60.0)
            build(s, embedder=embedder, log=lambda m: None, progress=False)
            t = time.perf_counter()
            res = run_set(name, path, Assistant.open(settings=s, embedder=embedder), server,
                          replayer)
            res["seconds"] = round(time.perf_counter() - t, 1)
            result["sets"][name] = res
            print(name, json.dumps({k: v for k, v in res.items()
                                    if k not in ("rows", "false_passed")}))
    result["unknown_questions"] = replayer.unknown
    if base.llm_verify == "model":
        result["check_requests_without_verdict"] = len(replayer.pending)
        if replayer.pending:
            judge.write_batches(replayer.pending, "replay", per_file=70)
            print(f"{len(replayer.pending)} check requests had no recorded verdict: written to "
                  f"{judge.JUDGE}/batch-replay-*.txt; record them and run again")
    print(save_result("llm-replay" + ("-model" if base.llm_verify == "model" else ""), result))


if __name__ == "__main__":
    main()
