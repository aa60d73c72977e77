"""`assistant ask` and `assistant eval ...`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .config import Settings
from .errors import AssistantError


def _settings(args) -> Settings:
    return Settings().replace(index_dir=Path(args.index) if getattr(args, "index", None) else None)


def _require_llm(settings: Settings, llm: bool | None) -> Settings:
    """`--llm` without an endpoint is a one-line error, not a silent extractive answer."""
    if llm and not settings.llm_url:
        raise AssistantError("--llm needs an endpoint: set ASSISTANT_LLM_URL (an OpenAI-compatible "
                             "base URL, e.g. http://localhost:11434/v1).")
    return settings


def cmd_ask(args) -> int:
    from .service import POSSIBLE_LABEL, Assistant

    settings = _require_llm(_settings(args), args.llm)
    scope = None
    if args.as_user:  # answered as that user would be: the same rules, read now
        from .access import Reader, load_rules, rules_path

        rules = load_rules(rules_path())
        if rules is None:
            raise AssistantError("--as needs access rules: set ASSISTANT_ACCESS or put access.toml "
                                 "in this folder (without rules everyone reads everything).")
        if rules.problem:
            raise AssistantError(rules.problem)
        scope = rules.scope(Reader.of(args.as_user, args.group or ()))
    assistant = Assistant.open(settings=settings)
    answer = assistant.ask(args.question, k=args.k, llm=args.llm, scope=scope)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
        return 0
    if answer.notice:
        print(answer.notice)
    if answer.llm and answer.llm.get("fallback") and not answer.llm.get("unchecked"):
        print(f"(LLM reader not used: {answer.llm['fallback']}; extractive answer below.)")
    if answer.llm:
        print(f"(LLM reader: {answer.llm.get('model') or 'the model'}, sentences checked by "
              f"{'the rules and the model' if answer.llm.get('verify') == 'model' else 'the rules'}"
              f"; ASSISTANT_LLM_VERIFY={answer.llm.get('verify', 'rules')})", file=sys.stderr)
    if answer.tier == "possible":
        print(POSSIBLE_LABEL)
    print(answer.text)
    print()
    if answer.citations:
        print("Sources:")
        for c in answer.citations:
            page = f", p. {c.page}" if c.page else ""
            print(f"[{c.n}] {c.article} › {c.section}{page}  ({c.source})" if c.section != c.article
                  else f"[{c.n}] {c.article}{page}  ({c.source})")
            print(f"    “{c.quote}”")
    elif answer.passages:
        print("Closest passages:")
        for p in answer.passages[:3]:
            print(f"- {p.section} ({p.source}): {p.chunk.text.strip()[:200]}")
    t = answer.timings_ms
    print(f"\n({t.get('total', 0):.0f} ms)", file=sys.stderr)
    return 0


def _needs_eval_extra(command):
    """`assistant eval` without the eval extra: one line saying what to install."""
    def run(args) -> int:
        try:
            return command(args)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] in EVAL_MODULES:
                raise AssistantError(f"`assistant eval` needs the eval extra ({exc.name} is not "
                                     "installed): pip install '.[eval]'") from None
            raise
    return run


EVAL_MODULES = {"sklearn", "ranx", "matplotlib"}


def cmd_eval_beir(args) -> int:
    from .eval import run_beir  # `eval` commands run the evaluation package

    res = run_beir(Path(args.dir), split=args.split, settings=Settings(),
                   index_dir=Path(args.work) if args.work else None)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    print(f"{Path(args.dir).name} ({args.split}): {res['queries']} queries, "
          f"{res['documents']} documents")
    print(f"{'':8} {'nDCG@10':>8} {'R@10':>8} {'R@100':>8} {'MRR@10':>8}")
    for mode in ("dense", "lexical", "hybrid"):
        m = res[mode]
        print(f"{mode:8} {m['ndcg@10']:8.4f} {m['recall@10']:8.4f} {m['recall@100']:8.4f} "
              f"{m['mrr@10']:8.4f}")
    return 0


def cmd_eval_squad(args) -> int:
    from .eval import squad_features, squad_llm, squad_report  # the evaluation package

    if args.llm:
        from .eval import ensure_index, load_squad, squad_articles
        from .service import Assistant

        settings = _require_llm(Settings(), True)
        work = Path(args.work) if args.work else Path(settings.data_dir) / "eval-squad"
        ensure_index(squad_articles(load_squad(Path(args.file))), work / "full", settings)
        res = squad_llm(Path(args.file), Assistant.open(work / "full", settings), n=args.limit)
        if args.json:
            print(json.dumps(res, indent=2, ensure_ascii=False))
            return 0
        print(f"LLM reader on {res['questions']} reporting-half questions "
              f"({res['answerable']} answerable): {res['llm_answers']} verified answers, "
              f"{res['declined']} declined (no clear answer), fallbacks {res['fallbacks']}")
        print(f"  answerable answers holding the gold answer: {res['answer_has_expected']}")
        print(f"  sentences dropped by the verifier: {res['sentences_dropped']}; shown sentences "
              f"failing an independent re-check: {res['shown_sentences_failing_recheck']}")
        print(f"  latency p50 {res['latency_seconds']['p50']:.2f} s")
        return 0

    data = squad_features(Path(args.file), Settings(),
                          work_dir=Path(args.work) if args.work else None)
    rep = squad_report(data)
    if args.json:
        print(json.dumps(rep, indent=2))
        return 0
    a, o, i = rep["answerable"], rep["out_of_corpus"], rep["in_paragraph"]
    print(f"Answerable questions ({a['questions']}, all {data['paragraphs']} paragraphs indexed):")
    print(f"  gold paragraph recall@5       {a['gold_paragraph_recall@5']:.3f}")
    print(f"  first cited sentence has gold {a['first_sentence_has_answer']:.3f}")
    print(f"  whole answer has gold         {a['answer_has_answer']:.3f}")
    print(f"Out of corpus (half the articles indexed; reporting half, {o['questions']} questions):")
    print(f"  AUROC {o['auroc']:.3f}; answered {o['answered_share']:.3f} of answerable, "
          f"abstained on {o['abstained_share']:.3f} of the rest "
          f"(threshold {rep['fitted']['threshold']:.3f})")
    print(f"In the paragraph (SQuAD's unanswerable questions; reporting half, {i['questions']}):")
    print(f"  AUROC {i['auroc']:.3f}")
    print(f"Latency per question (batched encoding): p50 {rep['latency_ms']['p50']:.1f} ms, "
          f"p95 {rep['latency_ms']['p95']:.1f} ms")
    return 0


def cmd_eval_questions(args) -> int:
    from .eval import run_questions, write_question_report  # the evaluation package
    from .service import Assistant

    settings = _require_llm(_settings(args), args.llm)
    assistant = Assistant.open(settings=settings)
    summary = run_questions(Path(args.file), assistant, llm=args.llm)
    for problem in summary["malformed"]:
        print(f"{args.file}: {problem}", file=sys.stderr)
    report = write_question_report(summary, Path(args.report)) if args.report else None
    if args.json:
        print(json.dumps({k: v for k, v in summary.items()}, indent=2, ensure_ascii=False))
        return 0

    def f(x):
        return "n/a" if x is None else f"{x:.3f}"

    s = summary
    print(f"{s['questions']} questions ({len(s['malformed'])} malformed lines skipped)")
    print(f"  hit@1 {f(s['hit@1'])}   hit@5 {f(s['hit@5'])}   MRR {f(s['mrr'])}")
    print(f"  answer contains an expected answer: {f(s['answer_contains_expected'])} "
          f"(of {s['answers_checked']})")
    print(f"  unanswerable abstained: {s['unanswerable_abstained']} of {s['unanswerable']}; "
          f"answerable wrongly abstained: {s['answerable_wrongly_abstained']} of {s['answerable']}")
    if s["llm_declined"]:
        print(f"  the language model found no answer in the passages it read: "
              f"{s['llm_declined']} question(s), shown as no clear answer")
    print(f"  latency p50 {f(s['latency_ms']['p50'])} ms, p95 {f(s['latency_ms']['p95'])} ms")
    if report:
        print(f"report: {report}")
    return 0


def _llm_flags(p) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--llm", dest="llm", action="store_true", default=None,
                   help="answer with the LLM reader at $ASSISTANT_LLM_URL (default when it is set)")
    g.add_argument("--no-llm", dest="llm", action="store_false",
                   help="extractive answer only, even when an LLM endpoint is configured")


def register(sub) -> None:
    p = sub.add_parser("ask", help="ask a question and print the cited answer")
    p.add_argument("question")
    p.add_argument("--index", help="index folder (default: ./index or $ASSISTANT_INDEX_DIR)")
    p.add_argument("--k", type=int, default=None, help="number of passages to retrieve")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument("--as", dest="as_user", metavar="EMAIL",
                   help="answer as this user would be answered under the access rules "
                        "(default: the operator, who reads every collection)")
    p.add_argument("--group", action="append", metavar="GROUP",
                   help="with --as: an OIDC group of that user (repeatable)")
    _llm_flags(p)
    p.set_defaults(func=cmd_ask)

    ev = sub.add_parser("eval", help="measure retrieval and answer quality")
    evs = ev.add_subparsers(dest="eval_command", required=True)
    p = evs.add_parser("beir", help="retrieval metrics on a BEIR folder (builds a temporary index)")
    p.add_argument("dir")
    p.add_argument("--split", default="test")
    p.add_argument("--json", action="store_true")
    p.add_argument("--work",
                   help="keep the evaluation index in this folder (reused when unchanged)")
    p.set_defaults(func=_needs_eval_extra(cmd_eval_beir))
    p = evs.add_parser("squad", help="answer and abstention figures on a SQuAD v2 json file")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.add_argument("--work",
                   help="keep the evaluation indexes in this folder (reused when unchanged)")
    p.add_argument("--llm", action="store_true",
                   help="ask --limit reporting-half questions with the LLM reader instead")
    p.add_argument("--limit", type=int, default=50, help="questions for --llm (default 50)")
    p.set_defaults(func=_needs_eval_extra(cmd_eval_squad))
    p = evs.add_parser("questions", help="score your own question file (JSON Lines) on the index")
    p.add_argument("file")
    p.add_argument("--index", help="index folder (default: ./index or $ASSISTANT_INDEX_DIR)")
    p.add_argument("--report", help="write report.md and plots into this folder")
    p.add_argument("--json", action="store_true")
    _llm_flags(p)
    p.set_defaults(func=_needs_eval_extra(cmd_eval_questions))
