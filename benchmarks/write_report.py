"""Render BENCHMARKS.md from the JSON results the benchmark scripts wrote (benchmarks/results/).

    .venv/bin/python -m benchmarks.write_report

Every figure in BENCHMARKS.md comes from one of those files; each section names the command
that produced it and when.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def f(x, digits=3):
    if x is None:
        return "n/a"
    if isinstance(x, (int,)) and not isinstance(x, bool):
        return f"{x:,}"
    return f"{x:.{digits}f}"


def section_build(r: dict) -> list[str]:
    full, nc, one = r["full"], r["no_change"], r["one_file_changed"]
    m = r["model"]
    return [
        "## Index build (BBC, 2,225 articles)", "",
        f"`{r['command']}` — {r['when']}, {r['threads']} threads.", "",
        "| figure | value |", "|---|---|",
        f"| full build, wall (fresh process, imports included) | {f(full['wall_seconds'], 1)} s |",
        f"| full build (inside the build call) | {f(full['build_seconds'], 1)} s, of which embedding {f(full['embed_seconds'], 1)} s |",
        f"| articles / sections / chunks | {full['articles']:,} / {full['sections']:,} / {full['chunks']:,} |",
        f"| tokens fed to the model (incl. prefix and special tokens) | {full['embedded_tokens']:,} (mean {f(r['mean_tokens_per_chunk'], 1)} per chunk) |",
        f"| throughput, whole build | {f(r['full_chunks_per_s'], 1)} chunks/s, {f(r['full_tokens_per_s'], 0)} tokens/s |",
        f"| peak RSS (full build process) | {f(full['peak_rss_mb'], 0)} MB |",
        f"| matmul rate, float32, torch (median of before/after) | {f(r['matmul_gflops']['median'], 1)} GFLOP/s |",
        f"| model FLOPs per token (6 layers, 384 hidden, 1536 FFN; attention at mean length) | {f(m['flops_per_token'] / 1e6, 2)} MFLOP |",
        f"| model ceiling at that matmul rate | {f(r['ceiling_tokens_per_s'], 0)} tokens/s |",
        f"| precision of the build (`ASSISTANT_PRECISION=auto`) | {r.get('precision', 'fp32')} |",
        f"| **whole build / float32 ceiling** (bar: ≥ 1.5 in bf16; was ≥ 0.75 in fp32) | **{f(r['share_of_ceiling'])}** |",
        f"| embedding step alone / ceiling | {f(r['embed_only_share_of_ceiling'])} |",
        f"| no-change rebuild (fresh process) | {f(nc['wall_seconds'], 1)} s = **{f(r['no_change_share_of_full'])}** of the full build (bar < 0.10) |",
        f"| one file changed | {f(one['wall_seconds'], 1)} s = {f(r['one_file_share_of_full'])} of the full build; embedded {one['embedded_chunks']} chunks |",
        f"| false headings detected in BBC plain text | {r.get('false_headings', 'n/a')} articles |",
    ] + ([
        f"| float32 full build of the same corpus, same run | {f(r['fp32_full']['build_seconds'], 1)} s, "
        f"{f(r['fp32_full_tokens_per_s'], 0)} tokens/s = {f(r['fp32_share_of_ceiling'])} of the ceiling |",
        f"| **speed-up of the default build over float32** | **{f(r['speedup_over_fp32_build'], 2)}×** |",
    ] if r.get("fp32_full") else []) + [""]


def section_quality(sci: dict | None, squad: dict | None, tuning: dict | None,
                    stage2: dict | None = None) -> list[str]:
    out = ["## Retrieval and answer quality", ""]
    if tuning:
        bl, bh = tuning["best_lexical"], tuning["best_hybrid"]
        out += [f"Chosen on SciFact **train** (`{tuning['command']}`): BM25 k1={bl['k1']}, b={bl['b']}, "
                f"question stop words {'extended' if bl['query_stop_plus'] else 'Lucene'}; fusion "
                f"{bh['method']} with dense weight {bh['dense_weight']}"
                + (f", lexical normalised by {bh['lexical_norm']}" if bh["method"] == "blend" else "")
                + f" (train nDCG@10 {f(bh['ndcg@10'])}).", ""]
    if stage2:
        nf, b = stage2["best_without_feedback"], stage2["best"]
        out += [f"Then, also on train (`{stage2['command']}`, {stage2['when']}): each chunk takes its "
                f"**{b['lexical_level']}**'s BM25 score, dense weight {b['dense_weight']} (train nDCG@10 "
                f"{f(nf['ndcg@10'])}, Recall@100 {f(nf['recall@100'])}); past the top "
                f"{b['feedback_after']} chunks, a second dense pass with the query plus "
                f"{b['feedback_weight']} × the mean of the top {b['feedback_passages']} chunk vectors "
                f"(pseudo-relevance feedback; the top {b['feedback_after']} stay as they are): train "
                f"nDCG@10 {f(b['ndcg@10'])}, Recall@100 {f(b['recall@100'])}.", ""]
    if sci:
        out += [f"SciFact **test** — `{sci['command']}` — {sci['when']}: {sci['queries']} queries, "
                f"{sci['documents']:,} abstracts.", "",
                "| | nDCG@10 | Recall@10 | Recall@100 | MRR@10 |", "|---|---|---|---|---|"]
        for mode in ("dense", "lexical", "hybrid"):
            m = sci[mode]
            out.append(f"| {mode} | {f(m['ndcg@10'])} | {f(m['recall@10'])} | {f(m['recall@100'])} | {f(m['mrr@10'])} |")
        out.append("")
    if squad:
        a, o, i = squad["answerable"], squad["out_of_corpus"], squad["in_paragraph"]
        out += [f"SQuAD v2 dev-half — `{squad['command']}` — {squad['when']}.", "",
                "| figure | value | bar |", "|---|---|---|",
                f"| gold paragraph recall@5 ({a['questions']:,} answerable, 646 paragraphs; 5 best distinct paragraphs) | {f(a['gold_paragraph_recall@5'])} | ≥ 0.97 |",
                f"| gold paragraph among the top 5 chunks | {f(a.get('gold_paragraph_in_top5_chunks'))} | |",
                f"| first cited sentence holds a gold answer | {f(a['first_sentence_has_answer'])} | ≥ 0.78 |",
                f"| whole answer holds a gold answer | {f(a['answer_has_answer'])} | ≥ 0.90 |",
                f"| out of corpus: AUROC (reporting half, {o['questions']:,} questions) | {f(o['auroc'])} | ≥ 0.90 |",
                f"| out of corpus: answered share of answerable | {f(o['answered_share'])} | aim ≥ 0.90 |",
                f"| out of corpus: abstained share of the rest | {f(o['abstained_share'])} | aim ≥ 0.80 |",
                f"| in the paragraph (SQuAD unanswerable): AUROC | {f(i['auroc'])} | report |",
                f"| abstention threshold (chosen on the fitting half) | {f(squad['fitted']['threshold'], 4)} (shipped {squad['shipped']['threshold']}) | |",
                ""]
        tiers = squad.get("tiers")
        if tiers:
            th = tiers["thresholds"]
            out += ["**Answer tiers** (offline default). Confidence ≥ "
                    f"{f(th['answer'], 4)}: an answer; ≥ {f(th['possible'], 4)}: the best sentences "
                    "marked *may answer*; below: *no passage clearly answers*, with the closest "
                    "passages. Both thresholds chosen on the fitting half (the lower one balances "
                    "the two bars below); shares on the reporting half:", "",
                    "| kind of question | answer | may answer | no clear answer | questions |",
                    "|---|---|---|---|---|"]
            for key, label in (("answerable", "answerable (half the articles indexed)"),
                               ("answerable_in_full_index", "answerable (all articles indexed)"),
                               ("out_of_corpus", "out of corpus"),
                               ("in_paragraph_unanswerable", "in-paragraph unanswerable (SQuAD)")):
                t = tiers[key]
                out.append(f"| {label} | {f(t['answer'])} | {f(t['possible'])} | {f(t['abstain'])} | {t['questions']:,} |")
            a, o = tiers["answerable"], tiers["out_of_corpus"]
            out += ["", f"Bars: answerable shown (answer + may answer) {f(a['answer'] + a['possible'])} "
                    f"(≥ 0.97); out of corpus abstained {f(o['abstain'])} (≥ 0.90); out-of-corpus "
                    f"AUROC {f(squad['out_of_corpus']['auroc'])} (≥ 0.95).", ""]
    return out


def section_ask(r: dict) -> list[str]:
    lat = r["latency_ms"]
    return ["## `ask` latency (BBC index)", "",
            f"`{r['command']}` — {r['when']}: {r['questions']} questions one at a time, model warm, "
            f"{r['chunks']:,} chunks.", "",
            "| figure | value | bar |", "|---|---|---|",
            f"| p50 | {f(lat['p50'], 1)} ms | ≤ 30 ms |",
            f"| p95 | {f(lat['p95'], 1)} ms | ≤ 60 ms |",
            f"| retrieval p50 / answer composition p50 | {f(r['retrieve_ms_p50'], 1)} / {f(r['answer_ms_p50'], 1)} ms | |",
            f"| new process, start to printed answer (median of {len(r['new_process_seconds']['runs'])}) | {f(r['new_process_seconds']['median'], 2)} s | |",
            ""]


def section_ui(r: dict) -> list[str]:
    runs = r["launch_to_first_answer"]["runs"]
    first = sorted(x["first_answer_visible_s"] for x in runs)[len(runs) // 2]
    a = r["answer_in_browser_ms"]
    return ["## Browser (Streamlit + Chromium)", "",
            f"`python -m benchmarks.bench_ui` — {r['date']}, 1-minute load average at the end "
            f"{r['machine']['loadavg_at_end'][0]} on {r['machine']['cpus']} cores (the server, "
            "Chromium and the driver themselves; " + (
                "above that, other work was running: figures inflated)."
                if r['machine']['loadavg_at_end'][0] > r['machine']['cpus'] else "no other work running)."),
            "",
            "| figure | value |", "|---|---|",
            f"| run command → first answer visible (median of {len(runs)}) | {first:.1f} s |",
            f"| answer time seen in the browser, p50 over {a['n']} questions | {a['p50']} ms |",
            ""]


def section_scale(r: dict) -> list[str]:
    """Issue 15: a million-chunk index on one machine (synthetic vectors, see the script)."""
    srv, rec, disk, upd = r.get("serve", {}), r.get("recall", {}), r.get("disk", {}), r.get("update", {})
    counts = (srv.get("manifest") or {}).get("counts", {})
    ask, path = srv.get("ask_ms", {}), srv.get("search_and_answer_ms", {})
    gb = 1e9
    load = r.get("machine", {})
    plan = (srv.get("manifest") or {}).get("faiss") or {}
    out = ["## Scale: a large archive on one machine", "",
           f"`{r['command']}` — {r['when']}, {f(counts.get('chunks'))} chunks, "
           f"{f(counts.get('articles'))} articles, {f(counts.get('sentences'))} sentence vectors; "
           f"load average {f(load.get('load_average', [0])[0], 1)} at the start and "
           f"{f(load.get('load_average_end', [0])[0], 1)} at the end on {load.get('cores')} cores. "
           "The bars are the issue's, set for 1,000,000 chunks. "
           f"{r['vectors']}." + ("" if r.get("complete") else " **Run incomplete: figures "
                                 "missing below were not measured.**"), "",
           "| figure | value | bar |", "|---|---|---|",
           f"| index type | {plan.get('type')}" + (f", nlist {plan['nlist']}, nprobe {plan['nprobe']}"
                                                    if "nlist" in plan else "")
           + f"; sentence vectors {(srv.get('manifest') or {}).get('sentence_vectors')} | |",
           f"| open (index Snapshot, fresh process) | {f(srv.get('open_build_s'), 2)} s | ≤ 10 s |",
           f"| RSS after open (model loaded: {f(srv.get('rss_model_loaded_mb'), 0)} MB of it) | "
           f"{f((srv.get('rss_after_open_mb') or 0) / 1e3, 2)} GB | ≤ 6 GB |",
           f"| RSS after {srv.get('questions', '?')} questions | "
           f"{f((srv.get('rss_after_questions_mb') or 0) / 1e3, 2)} GB | |",
           f"| `ask` p50 / p95, warm (encoding included) | {f(ask.get('p50'), 1)} / "
           f"{f(ask.get('p95'), 1)} ms | p95 ≤ 150 ms |",
           f"| search + answer p50 / p95 (question vectors precomputed) | {f(path.get('p50'), 1)} / "
           f"{f(path.get('p95'), 1)} ms | |",
           f"| disk (the build folder) | {f((disk.get('total_bytes') or 0) / gb, 2)} GB | ≤ 4 GB |",
           f"| update adding {upd.get('articles_added', '?')} articles, without embedding | "
           f"{f(upd.get('seconds_without_embedding'), 1)} s | ≤ 120 s |",
           f"| of it: lexical index / writing the build | {f(upd.get('lexical_s'), 1)} / "
           f"{f(upd.get('write_s'), 1)} s | |",
           f"| its embedding with the real model ({f(upd.get('chunks_embedded'))} chunks, estimated "
           f"from {upd.get('real_embedding_sample_chunks', '?')}) | "
           f"{f(upd.get('real_embedding_s_estimated'), 0)} s | reported apart |",
           f"| IVF recall@10 against exact, nprobe {rec.get('nprobe', '?')} | "
           f"{f(rec.get('recall@10'), 4)} | ≥ 0.99 |", ""]
    if disk.get("by_file"):
        out += ["Disk by file: " + ", ".join(f"{k} {v / 1e6:,.0f} MB"
                                             for k, v in disk["by_file"].items()), ""]
    if rec.get("by_nprobe"):
        out += ["| nprobe | recall@10 | ms per query |", "|---|---|---|"]
        out += [f"| {k} | {f(v['recall@10'], 4)} | {f(v['ms_per_query'], 2)} |"
                for k, v in rec["by_nprobe"].items()]
        out.append("")
    sweep = (r.get("sweep") or {}).get("by_size")
    if sweep:
        out += ["Flat vs IVF search time, top 100 (the FLAT_LIMIT choice):", "",
                "| chunks | flat ms | IVF ms |", "|---|---|---|"]
        out += [f"| {x['chunks']:,} | {f(x['flat_ms'], 2)} | {f(x['ivf_ms'], 2)} |" for x in sweep]
        out.append("")
    for step in (r.get("build") or {}).get("steps", []):
        out.append(f"- build step to {step['chunks']:,} chunks: {f(step['build_s'], 0)} s "
                   f"(peak RSS {f(step['peak_rss_mb'] / 1e3, 1)} GB)")
    if r.get("app"):
        out.append(f"- app first page load (AppTest, server side): {f(r['app']['first_run_s'], 1)} s"
                   f"; the next run {f(r['app'].get('second_run_s'), 2)} s")
    out += [f"- {note}" for note in r.get("notes", [])]
    return out + [""]


def build_load_note(r: dict) -> list[str]:
    note = r.get("load_note")
    return [f"Note: {note}", ""] if note else []


def section_language(r: dict) -> list[str]:
    tot = r["english_total"]
    out = ["## Language notice (false alarms on English questions)", "",
           "`python -m benchmarks.bench_language`: a false alarm is an English question told it is "
           "not English (bar: at most 1% on every set).", "",
           "| English set | questions | false alarms | rate |", "|---|---|---|---|"]
    out += [f"| {name} | {x['questions']:,} | {x['false_alarms']} | {x['rate_pct']}% |"
            for name, x in r["english"].items()]
    out += [f"| **all** | {tot['questions']:,} | {tot['false_alarms']} | {tot['rate_pct']}% |", "",
            "| written in | questions | notice given |", "|---|---|---|"]
    out += [f"| {lang} | {x['questions']} | {x['noticed']} |" for lang, x in r["foreign"].items()]
    return out + [""]


def section_warm(r: dict) -> list[str]:
    out = ["## Warm start: the first answer after a server start (BBC)", "",
           f"`python -m benchmarks.bench_warm`: {r['rounds']} starts of each kind, alternating, in "
           "one run; a page opened in Chromium as soon as the health check answers asks "
           f"\"{r['question']}\". Medians, seconds:", "",
           "| server start | until healthy | open → chat input | Enter → answer shown | "
           "open → answer shown |", "|---|---|---|---|---|"]
    for name, m in r["median"].items():
        out.append(f"| {name} | {m['healthy_s']} | {m['open_to_input_s']} | "
                   f"{m['submit_to_answer_s']} | {m['open_to_answer_s']} |")
    out += ["", f"First answer within 2 s of pressing Enter after a warm start: "
                f"**{'yes' if r.get('bar_2s_met') else 'no'}**. The loading moved before the "
                "health check (\"until healthy\"); \"open → chat input\" is Streamlit's page "
                "load in Chromium, the same both ways.", ""]
    return out


def section_generic(title: str, r: dict) -> list[str]:
    out = [f"## {title}", "", f"`{r.get('command', '')}` — {r.get('when', '')}", ""]
    table = r.get("table")
    if table:
        out += ["| " + " | ".join(table[0]) + " |", "|" + "---|" * len(table[0])]
        out += ["| " + " | ".join(str(c) for c in row) + " |" for row in table[1:]]
        out.append("")
    for note in r.get("notes", []):
        out.append(f"- {note}")
    out.append("")
    return out


def section_peer(r: dict) -> list[str]:
    """The side-by-side table: each figure for both systems and their ratio, from one run."""
    out = ["## Side by side with txtai", "", f"`{r.get('command', '')}` — {r.get('when', '')}, "
           f"{r.get('seconds', 0) / 60:.0f} min, txtai {r.get('txtai_version', '?')}", ""]
    chosen = r.get("txtai_chosen") or {}
    if chosen:
        out += [f"txtai configuration (chosen on SciFact train, {chosen.get('source', '')}): hybrid "
                f"BM25 + dense, exact FAISS index (`IDMap,Flat`), maxlength {chosen.get('maxlength')}, "
                f"BM25 normalization `{chosen.get('normalize')}`, dense weight {chosen.get('weight')}.", ""]
    from benchmarks.bench_peer import table  # the table bench_peer prints, with its notes

    out += [table(r.get("figures", [])), ""]
    bar = r.get("bar") or {}
    if bar:
        out += [f"Bar: ahead on quality: **{'yes' if bar.get('ahead_on_quality') else 'no'}**; "
                f"not slower on build or query: **{'yes' if bar.get('not_slower') else 'no'}**."]
    for note in r.get("notes", []):
        out.append(f"- {note}")
    out.append("")
    return out


def section_ray(r: dict, busy_run: dict | None = None) -> list[str]:
    """The Ray build beside the local one, from the same run of bench_ray; and, when there is
    one, a run taken while the machine was busy."""
    loc, ray, c = r["local"], r["ray"], r["cluster"]
    m = r["machine"]
    busy = max(m["load_average_before"][0], m["load_average_after"][0]) > m["cpus"]
    row = "| {} | {} | {} |"

    def walls(run: dict) -> str:
        return ", ".join(f"{w:.0f}" for w in run.get("runs_wall_seconds", [run["wall_seconds"]]))

    ratio = r["ray_over_local_wall"]
    if ratio >= 0.9:
        why = ("Both builds run on the same cores, so no speed-up is expected: Ray adds its "
               "start-up, serialisation and one-thread actors.")
    else:
        why = ("Both builds run on the same cores, so a quiet machine should show no speed-up. "
               "A likely reason for this one (not verified separately): other work was competing "
               "for the 2 cores, which slows the local build's one two-thread model (its threads "
               "wait for each other) more than two one-thread actors.")
    return [
        f"## Build embedded on Ray (BBC, {r['files']:,} articles)", "",
        f"`{r['command']}` — {r['when']}. A local cluster of {c['nodes']} Ray nodes (`ray "
        f"start`), {c['cpus_per_node']} CPU each, {c['model_actors']} model actors of "
        f"{c['threads_per_actor']} thread, against a local build (one model, all cores); each "
        f"build in a fresh process; the run with the median wall time of "
        f"{r.get('repeats', 1)} of each kind (of two, the faster). Load "
        f"average of the machine ({m['cpus']} cores) before/after: "
        f"{m['load_average_before'][0]:.1f}/{m['load_average_after'][0]:.1f}"
        + (", so the timings are provisional." if busy else "."), "",
        "| figure | local build | Ray build |", "|---|---|---|",
        row.format("chunks / embedded word pieces",
                   f"{loc['chunks']:,} / {loc['embedded_tokens']:,}",
                   f"{ray['chunks']:,} / {ray['embedded_tokens']:,}"),
        row.format("wall (fresh process), median", f"{f(loc['wall_seconds'], 1)} s",
                   f"{f(ray['wall_seconds'], 1)} s"),
        row.format("wall of each run", f"{walls(loc)} s", f"{walls(ray)} s"),
        row.format("embedding (inside the build)", f"{f(loc['embed_seconds'], 1)} s",
                   f"{f(ray['embed_seconds'], 1)} s (connecting and starting actors included)"),
        row.format("throughput, whole build", f"{f(loc['tokens_per_s_build'], 0)} tokens/s",
                   f"{f(ray['tokens_per_s_build'], 0)} tokens/s"),
        row.format("precision", loc["precision"], ray["precision"]), "",
        f"- Same chunk ids: **{'yes' if r['same_chunk_ids'] else 'no'}** "
        f"({r['chunks_compared']:,} chunks, {r['sentences_compared']:,} sentence vectors).",
        f"- Smallest cosine to the local build: chunk vectors **{f(r['min_chunk_cosine'], 7)}**, "
        f"sentence vectors **{f(r['min_sentence_cosine'], 7)}** (bar ≥ 0.9999: "
        f"**{'met' if r['bar_met'] else 'not met'}**).",
        f"- Ray / local: wall {f(ratio, 2)}×, whole-build throughput "
        f"{f(r['ray_over_local_tokens_per_s'], 2)}×. {why} Starting the cluster took "
        f"{f(c['start_seconds'], 1)} s (counted in neither build).", ""] + ([
        f"- The same comparison while other work loaded the machine (`{busy_run['command']}`, "
        f"{busy_run['when']}, load average {busy_run['machine']['load_average_before'][0]:.1f}"
        f"/{busy_run['machine']['load_average_after'][0]:.1f}): local "
        f"{f(busy_run['local']['wall_seconds'], 0)} s, Ray {f(busy_run['ray']['wall_seconds'], 0)}"
        f" s (Ray / local {f(busy_run['ray_over_local_wall'], 2)}×). A likely reason (not measured "
        "apart): under contention the local build's one two-thread model, whose threads wait for "
        "each other, slows down far more than two one-thread actors.", ""] if busy_run else [])


def section_precision(r: dict) -> list[str]:
    out = ["## bfloat16 against float32 (one run)", "",
           f"`{r['command']}` — {r['when']}. Separate evaluation indexes per precision; SQuAD with "
           "the shipped abstention model.", ""]
    if "fp32" in r:
        out += ["| figure | fp32 | bf16 | bf16 − fp32 |", "|---|---|---|---|"]
        for part, label in (("scifact_test", "SciFact test"), ("squad", "SQuAD")):
            for k, v in r["fp32"][part].items():
                if k == "seconds_with_index":
                    continue
                b = r["bf16"][part][k]
                out.append(f"| {label} {k} | {f(v, 4)} | {f(b, 4)} | {b - v:+.4f} |")
        out += ["", f"Largest difference: {f(r['max_abs_difference'], 4)} (bar ≤ 0.003).", ""]
    a = r["ask_ms"]
    out += [f"Warm `ask` on the BBC index ({a['chunks']:,} chunks, {a['questions']:,} questions "
            "per precision, interleaved): "
            f"p50 fp32 {f(a['fp32']['p50'], 1)} ms, bf16 {f(a['bf16']['p50'], 1)} ms; "
            f"p95 fp32 {f(a['fp32']['p95'], 1)} ms, bf16 {f(a['bf16']['p95'], 1)} ms.", ""]
    for old in r.get("ask_ms_earlier_runs", []):
        out += [f"An earlier run of the same comparison, while other work was running on the machine: "
                f"p50 fp32 {f(old['fp32']['p50'], 1)} ms, bf16 {f(old['bf16']['p50'], 1)} ms.", ""]
    return out


def section_own_words(runs: list[tuple[str, dict]]) -> list[str]:
    out = ["## Own-words questions", "",
           "Written the way staff ask, without the answering sentence's wording, including questions "
           "whose topic is in the articles but whose fact is not (`examples/seed-questions-own-words.jsonl`, "
           "`benchmarks/questions/bbc-own-words.jsonl`; the original starter set for comparison). "
           "Tiers: answer / may answer / no clear answer.", "",
           "| run | set | questions | expected section first | shown answer holds the expected words | answerable: answer / may / none | unanswerable: answer / may / none |",
           "|---|---|---|---|---|---|---|"]
    for label, r in runs:
        for name, s in r["sets"].items():
            a, u = s["tiers"]["answerable"], s["tiers"]["unanswerable"]
            out.append(f"| {label} | {name} | {s['questions']} | {f(s['hit@1'], 2)} | "
                       f"{f(s['answer_contains_expected'], 2)} | {a['answer']} / {a['possible']} / {a['abstain']} | "
                       f"{u['answer']} / {u['possible']} / {u['abstain']} |")
    out += ["", "Commands: " + "; ".join(f"`{r['command']}` ({r['when']})" for _, r in runs), ""]
    return out


def section_verifier(r: dict) -> list[str]:
    rep = r["reporting"]
    out = ["## Verifier (LLM reader's sentence check)", "",
           f"`{r['command']}` — {r['when']}. Thresholds chosen on the fitting half: "
           f"{', '.join(f'{k} {v}' for k, v in r['thresholds'].items())}. Reporting half:", ""]
    out += ["```", json.dumps(rep, indent=1)[:2500], "```", ""]
    return out


def section_llm(r: dict) -> list[str]:
    out = ["## LLM reader end to end (llama.cpp server, SmolLM2 135M)", "",
           f"`{r['command']}` — {r['when']}. A 135M model reads poorly: these figures are about the "
           "promise (what is shown is verified, failures fall back), not answer quality.", "",
           "| set | questions | verified LLM answers | fallbacks | sentences dropped | shown sentences failing an independent re-check | latency p50 / p95 |",
           "|---|---|---|---|---|---|---|"]
    for key in ("seed", "squad"):
        s = r[key]
        out.append(f"| {key} | {s['questions']} | {s['llm_answers']} | {sum(s['fallbacks'].values())} | "
                   f"{s['sentences_dropped']} | **{s['shown_sentences_failing_recheck']}** | "
                   f"{f(s['latency_seconds']['p50'], 2)} / {f(s['latency_seconds']['p95'], 2)} s |")
    st = r["server_stopped_mid_run"]
    out += ["", f"Server stopped mid-run: {st['questions_after_stop']} questions after the stop, "
            f"{st['fell_back_after_stop']} fell back to the extractive answer "
            f"({'; '.join(x for x in st['fallback_reasons'] if x)}), {st['errors']} errors.", ""]
    reasons = {}
    for key in ("seed", "squad"):
        for k, v in r[key]["fallbacks"].items():
            reasons[k] = reasons.get(k, 0) + v
    if reasons:
        out += ["Fallback reasons: " + "; ".join(f"{k} ({v})" for k, v in sorted(reasons.items(), key=lambda x: -x[1])), ""]
    why: dict[str, int] = {}
    for key in ("seed", "squad"):
        for row in r[key]["rows"]:
            for d in row["dropped"]:
                k = ("no citation" if d["why"] == "no citation" else
                     "cites a passage number that was not given" if d["why"].startswith("cites [") else
                     "a name, number or date not in the cited passage" if (" not in passage" in d["why"] or " is not in " in d["why"]) else
                     "meaning not close to the cited passage")
                why[k] = why.get(k, 0) + 1
    if why:
        out += ["Why the verifier dropped sentences: " + "; ".join(
            f"{k} ({v})" for k, v in sorted(why.items(), key=lambda x: -x[1])) + ".", ""]
    return out


def with_api_row(reliability: dict, api: dict | None) -> dict:
    """The HTTP API's load run as a row of the reliability table (issue 25: its figures go
    there), from benchmarks/results/api-load.json."""
    if not api or not reliability.get("table"):
        return reliability
    r = api["load"]
    lat, m = r["latency_s"], r["memory"]
    row = ["HTTP API load",
           f"{r['clients']} concurrent API clients (own tokens; /v1/ask, chat completions, "
           f"streamed) back to back for {r['load_phase_s']:.0f} s, BBC index",
           f"{r['questions']} questions",
           f"{r['failed']} failed; latency p50 {lat['p50']} s, p95 {lat['p95']} s; server RSS "
           f"{m.get('baseline_mb')} → {m.get('end_mb')} MB",
           api.get("command", "python -m benchmarks.bench_api_load")]
    return {**reliability, "table": reliability["table"] + [row]}


def section_mutants(r: dict) -> list[str]:
    """devtools/mutant_check.py: hand-written one-line bugs against the promises."""
    lines = ["## Mutants: one-line bugs against the promises", "",
             "`python devtools/mutant_check.py` (`make mutant-check`): each one-line bug applied "
             "alone to a copy of the code, then the promise's test files run there "
             f"(`-m \"{r['lane']}\"`); the unmutated copy passes them first "
             f"({r['baseline']['summary']}).", "",
             "| mutant | promise | file | change | outcome | tests failing |", "|---|---|---|---|---|---|"]
    for m in r["mutants"]:
        change = f"`{m['from'][:60]}` → `{m['to'][:60]}`".replace("|", "\\|")
        lines.append(f"| {m['name']} | {m['promise']} | {m['file']} | {change} | "
                     f"{'killed' if m['killed'] else '**survived**'} | {len(m['failed'])} |")
    lines += ["", f"- {r['killed']} of {r['total']} killed. The first four are issue 26's; "
              "`control-always-abstain` is the control (every answer abstains).",
              "- mutmut over the promise modules (`make mutants`, `[tool.mutmut]` in "
              "pyproject.toml) is set up; a full run is hours on 2 shared cores and was not "
              "completed (see below).", ""]
    return lines


def main() -> None:
    lines = ["# Benchmarks", "",
             "Measured on this project's machine (2 cores, no GPU). Every figure below is produced "
             "by a committed script under `benchmarks/`, which writes `benchmarks/results/*.json`; "
             "this page is rendered from those files by `benchmarks/write_report.py`. Timings are "
             "medians/percentiles within one run; ratios compare figures measured in the same run.", ""]
    build = load("build")
    if build:
        lines += section_build(build) + build_load_note(build)
    lines += section_quality(load("scifact"), load("squad"), load("tuning"), load("tune_sections"))
    precision = load("precision")
    if precision:
        lines += section_precision(precision)
    ray = load("ray")
    if ray:
        lines += section_ray(ray, load("ray-busy"))
    own = [(label, load(name)) for label, name in (("before (round 1 reader)", "own_words-before"),
                                                    ("extractive tiers", "own_words-extractive"))]
    own = [(label, r) for label, r in own if r]
    if own:
        lines += section_own_words(own)
    for name, render in (("verifier", section_verifier), ("llm", section_llm),
                         ("ask", section_ask), ("ui", section_ui), ("peer", section_peer),
                         ("scale", section_scale), ("warm", section_warm),
                         ("language", section_language)):
        r = load(name)
        if r:
            lines += render(r)
    for name, title in (("reliability", "Reliability"),
                        ("load", "Load: concurrent chat sessions"),
                        ("load-b2b", "Capacity: 20 sessions asking back to back (BBC)"),
                        ("load-paced", "Capacity: 50 sessions with think time (BBC)"),
                        ("api-load", "HTTP API: 20 clients asking back to back (BBC)"),
                        ("filter", "The app at 100,000 articles")):
        r = load(name)
        if r and name == "reliability":
            r = with_api_row(r, load("api-load"))
        if r:
            lines += section_generic(title, r)
    mutants = load("mutants")
    if mutants:
        lines += section_mutants(mutants)
    (HERE.parent / "BENCHMARKS.md").write_text("\n".join(lines))
    print("wrote BENCHMARKS.md")


if __name__ == "__main__":
    main()
