"""The LLM reader end to end over real HTTP, against a scripted OpenAI-compatible server
(devtools/llm_servers.py) and the real embedding model: whatever the endpoint says, what reaches the
user is verified text or the extractive answer with the reason."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.service import Assistant
from devtools.llm_servers import (
    Cut,
    Error,
    Hang,
    Malformed,
    Reply,
    ScriptedServer,
    citing,
    prompt_passages,
)

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "mexico-us-cross-border-crime-cooperation.txt"
QUESTION = "Who is in charge of the joint efforts?"
DEA = "Drug Enforcement Administration"


@pytest.fixture(scope="module")
def seed_settings(seed_index):
    return seed_index.settings()


@pytest.fixture
def server():
    with ScriptedServer() as srv:
        yield srv


def make(seed_settings, embedder, server, timeout: float = 5.0) -> Assistant:
    s = seed_settings.replace(llm_url=server.base_url, llm_model="scripted-model",
                              llm_timeout=timeout)
    return Assistant.open(settings=s, embedder=embedder)


def test_a_supported_answer_is_shown_with_renumbered_citations(seed_settings, embedder, server):
    server.respond(citing("The U.S. Drug Enforcement Administration and Mexico's Federal Police lead "
                     "the coordinated efforts [{n}].", DEA))
    a = make(seed_settings, embedder, server)
    shown = []
    ans = a.ask(QUESTION, llm=True, on_text=shown.append)
    assert ans.mode == "llm" and ans.tier == "answer" and not ans.abstained
    assert ans.text.endswith("[1]") and DEA in ans.text
    assert len(ans.citations) == 1
    c = ans.citations[0]
    assert c.n == 1 and c.section == "Details of the Joint Operations"
    assert DEA in c.quote and c.quote in c.passage  # the supporting span, quoted exactly
    assert ans.llm == {"model": "scripted-model", "dropped": [], "fallback": None,
                       "declined": False, "unchecked": False, "verify": "rules"}
    assert shown == [ans.text]  # one sentence: one payload, the verified text
    assert quoted_words_support(ans) == []
    # What was sent: the question and numbered passages with article and section, nothing else.
    body = server.requests[0]
    assert body["stream"] is True and body["model"] == "scripted-model"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    user = body["messages"][1]["content"]
    assert user.rstrip().endswith(f"Question: {QUESTION}")
    assert SEED.name not in json.dumps(body) and str(seed_settings.corpus_dir) not in json.dumps(body)
    assert "NOT_IN_ARTICLES" in body["messages"][0]["content"]
    assert len(prompt_passages(body)) == len(ans.passages[:5])


def test_an_invented_figure_is_dropped_and_never_shown(seed_settings, embedder, server):
    server.respond(citing("The DEA and Mexico's Federal Police will lead the coordinated efforts [{n}]. "
                     "They have deployed 4,750 agents to the border [{n}].", DEA))
    ans = make(seed_settings, embedder, server).ask(QUESTION, llm=True)
    assert ans.mode == "llm"
    assert "4,750" not in ans.text and "4750" not in ans.text
    assert all("4,750" not in c.quote for c in ans.citations)
    assert [d["sentence"] for d in ans.llm["dropped"]] == [
        "They have deployed 4,750 agents to the border."]
    assert "4,750" in ans.llm["dropped"][0]["why"]
    assert "left out" in ans.notice


def test_only_invented_content_falls_back_to_the_extractive_answer(seed_settings, embedder,
                                                                   server):
    server.respond(citing("The operation costs $3.2 billion a year [{n}].", DEA))
    a = make(seed_settings, embedder, server)
    ans = a.ask(QUESTION, llm=True)
    plain = a.ask(QUESTION, llm=False)
    assert ans.mode == "extractive" and "3.2" not in ans.text
    assert ans.text == plain.text and ans.citations == plain.citations
    assert "no sentence" in ans.llm["fallback"] and ans.llm["unchecked"] is True
    assert ans.tier == plain.tier  # the tier the extractive answer's own confidence earns
    assert ans.notice.startswith("The language model's answer could not be checked")
    assert not ans.llm["declined"]


def test_a_wrong_citation_is_removed_and_a_right_one_kept(seed_settings, embedder, server):
    server.respond(citing("Mexico's Federal Police and the U.S. Drug Enforcement Administration "
                          "will lead the coordinated efforts [{other}][{n}].", DEA))
    ans = make(seed_settings, embedder, server).ask(QUESTION, llm=True)
    assert ans.mode == "llm" and len(ans.citations) == 1
    assert DEA in ans.citations[0].quote


def test_a_sentence_cited_only_to_the_wrong_passage_is_dropped(seed_settings, embedder, server):
    server.respond(citing("The DEA and Mexico's Federal Police will lead the coordinated efforts "
                          "[{other}].", DEA))
    ans = make(seed_settings, embedder, server).ask(QUESTION, llm=True)
    assert ans.mode == "extractive" and ans.llm["fallback"]
    assert len(ans.llm["dropped"]) == 1


def test_sentences_without_citations_are_not_shown(seed_settings, embedder, server):
    server.push(Reply("The DEA and Mexico's Federal Police will lead the coordinated efforts."))
    ans = make(seed_settings, embedder, server).ask(QUESTION, llm=True)
    assert ans.mode == "extractive"
    assert ans.llm["dropped"][0]["why"] == "no citation"


def test_a_citation_out_of_range_is_not_a_citation(seed_settings, embedder, server):
    server.push(Reply("The DEA will lead the coordinated efforts [9]."))
    ans = make(seed_settings, embedder, server).ask(QUESTION, llm=True)
    assert ans.mode == "extractive" and "[9]" in ans.llm["dropped"][0]["why"]


@pytest.mark.parametrize("reply", ["NOT_IN_ARTICLES", " NOT_IN_ARTICLES.\n", "**NOT_IN_ARTICLES**"])
def test_the_model_declining_means_no_clear_answer(seed_settings, embedder, server, reply):
    """A capable reader's "no" outweighs the extractive confidence: the abstain tier, saying the
    model found no answer in the passages it read, never that the articles lack it."""
    server.push(Reply(reply))
    a = make(seed_settings, embedder, server)
    ans = a.ask("How many agents does the task force have?", llm=True)
    assert ans.mode == "llm" and ans.tier == "abstain" and ans.abstained
    assert ans.llm["declined"] is True and ans.llm["fallback"] is None
    assert ans.text.startswith("The language model found no answer in the 5 closest passages")
    assert not ans.citations and ans.passages  # the closest passages are listed
    assert "NOT_IN_ARTICLES" not in ans.text
    low = ans.text.lower()
    assert not any(x in low for x in ("not in the articles", "no information", "do not cover"))


@pytest.mark.parametrize("script,why", [
    (Error(500), "HTTP 500"),
    (Error(401, "bad key", "invalid_request_error"), "HTTP 401"),
    (Error(429, "slow down", "rate_limit"), "HTTP 429"),
    (Malformed("not-json", "The DEA"), ""),
    (Malformed("error-event", "The DEA"), ""),
    (Cut("The DEA and Mexico's Federal Police will lead", chunked=True), ""),
    (Hang(30.0), "in time"),
    (Hang(30.0, text_before="The DEA will"), ""),
])
@pytest.mark.heavy
def test_endpoint_failures_fall_back_with_a_reason(seed_settings, embedder, server, script, why):
    server.push(script)
    a = make(seed_settings, embedder, server, timeout=1.5)
    ans = a.ask(QUESTION, llm=True)
    assert ans.mode == "extractive", ans.text
    assert ans.llm["fallback"] and why in ans.llm["fallback"]
    assert "\n" not in ans.llm["fallback"]
    plain = a.ask(QUESTION, llm=False)  # the extractive answer is what is shown
    assert ans.text == plain.text and ans.citations == plain.citations


@pytest.mark.heavy
def test_a_stream_slower_than_the_timeout_in_total_falls_back(seed_settings, embedder, server):
    """Each piece comes within the read timeout, but the whole answer takes too long."""
    server.push(Reply("The DEA and Mexico's Federal Police will lead the efforts [1].",
                      piece_chars=3, delay=0.1))
    ans = make(seed_settings, embedder, server, timeout=1.0).ask(QUESTION, llm=True)
    assert ans.mode == "extractive" and "longer than 1 s" in ans.llm["fallback"]


def test_a_stream_cut_cleanly_keeps_only_verified_sentences(seed_settings, embedder, server):
    def script(body):
        n = next(k for k, t in prompt_passages(body).items() if DEA in t)
        return Cut(f"The DEA and Mexico's Federal Police will lead the coordinated efforts [{n}]. "
                   "They also run", chunked=False)

    server.respond(script)
    ans = make(seed_settings, embedder, server).ask(QUESTION, llm=True)
    # The complete sentence is verified and shown; the cut-off words never are.
    assert "They also run" not in ans.text
    assert ans.mode == "llm" and ans.llm["fallback"] is None
    assert ans.text == "The DEA and Mexico's Federal Police will lead the coordinated efforts. [1]"
    assert DEA in ans.citations[0].quote and quoted_words_support(ans) == []


def test_two_sources_are_renumbered_in_order_of_first_use(seed_settings, embedder, server):
    """The first sentence cites the later-numbered passage of the prompt (or another span of the
    same one): citations are numbered 1, 2 in the order the answer uses them, each marker points
    to the citation quoting its sentence's support, and the streamed text ends as the answer."""
    deaths = "over 110,000 drug overdose deaths were recorded"

    def script(body):
        passages = prompt_passages(body)
        a = next(k for k, t in passages.items() if "110,000" in t)
        b = next(k for k, t in passages.items() if DEA in t)
        first, second = (("Over 110,000 drug overdose deaths were recorded in the U.S. from March "
                          f"2021 to March 2022 [{a}].", a),
                         ("The U.S. Drug Enforcement Administration and Mexico's Federal Police "
                          f"lead the coordinated efforts [{b}].", b))
        if a < b:  # cite the higher number first, so that renumbering must change it
            first, second = second, first
        return Reply(first[0] + " " + second[0])

    server.respond(script)
    a = make(seed_settings, embedder, server)
    shown: list[str] = []
    ans = a.ask("Who leads the coordinated efforts, and how many overdose deaths were recorded?",
                llm=True, on_text=shown.append)
    assert ans.mode == "llm" and ans.llm["dropped"] == [], ans.llm
    assert [c.n for c in ans.citations] == [1, 2]
    sentences = re.findall(r".+?\[\d+\]", ans.text)
    assert [x[-3:] for x in sentences] == ["[1]", "[2]"], ans.text
    by_n = {c.n: c for c in ans.citations}
    lead, deaths_cite = (by_n[1], by_n[2]) if DEA in sentences[0] else (by_n[2], by_n[1])
    assert DEA in lead.quote and deaths in deaths_cite.quote.lower()
    assert lead.quote != deaths_cite.quote
    # The streamed text carries the prompt's passage numbers (renumbering happens once the
    # answer is complete); its sentences are the answer's.
    unmarked = [re.sub(r"\s*\[\d+\]", "", t) for t in (shown[-1], ans.text)]
    assert len(shown) == 2 and unmarked[0] == unmarked[1]
    assert quoted_words_support(ans) == []


def quoted_words_support(ans) -> list[str]:
    """An outside check that does not reuse the product's verifier: every shown sentence's
    figures and at least 3/4 of its longer words occur in the quotes its markers point to."""
    by_n = {c.n: c for c in ans.citations}
    problems = []
    for sentence in re.split(r"(?<=\])\.?\s+", ans.text.strip()):
        marks = [int(m) for m in re.findall(r"\[(\d+)\]", sentence)]
        body = re.sub(r"\s*\[\d+\]", "", sentence).lower()
        if not marks or any(m not in by_n for m in marks):
            problems.append(f"{sentence!r}: markers {marks}, citations {sorted(by_n)}")
            continue
        quoted = " ".join(by_n[m].quote.lower() for m in marks)
        figures = re.findall(r"\d[\d,.]*\d|\d", body)
        words = [w for w in re.findall(r"[a-z']{5,}", body)]
        missing = [f for f in figures if f not in quoted]
        found = sum(w[:5] in quoted for w in words)
        if missing or (words and found < 0.75 * len(words)):
            problems.append(f"{sentence!r}: figures {missing} / {found} of {len(words)} words")
    return problems


def test_an_unreachable_endpoint_falls_back(seed_settings, embedder):
    srv = ScriptedServer().start()
    url = srv.base_url
    srv.stop()
    s = seed_settings.replace(llm_url=url, llm_model="m", llm_timeout=2.0)
    ans = Assistant.open(settings=s, embedder=embedder).ask(QUESTION)  # configured: used
    assert ans.mode == "extractive" and "could not be reached" in ans.llm["fallback"]


def test_not_configured_means_extractive_and_no_llm_field(seed_settings, embedder):
    a = Assistant.open(settings=seed_settings.replace(llm_url=""), embedder=embedder)
    ans = a.ask(QUESTION)
    assert ans.mode == "extractive" and ans.llm is None
    forced = a.ask(QUESTION, llm=True)
    assert forced.mode == "extractive" and "ASSISTANT_LLM_URL" in forced.llm["fallback"]


def test_cli_json_contract_and_flags(seed_settings, server, capsys, monkeypatch):
    from assistant.cli import main

    server.respond(citing("The DEA and Mexico's Federal Police will lead the coordinated efforts [{n}]. "
                     "Each agency sends 900 officers [{n}].", DEA))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(seed_settings.index_dir))
    monkeypatch.setenv("ASSISTANT_LLM_URL", server.base_url)
    monkeypatch.setenv("ASSISTANT_LLM_MODEL", "scripted-model")
    assert main(["ask", QUESTION, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "llm" and out["llm"]["model"] == "scripted-model"
    assert out["llm"]["fallback"] is None
    assert [d["sentence"] for d in out["llm"]["dropped"]] == ["Each agency sends 900 officers."]
    c = out["citations"][0]
    assert set(c) == {"n", "article", "section", "page", "source", "quote", "passage", "score"}
    assert c["quote"] in c["passage"] and "900" not in out["answer"]
    n_requests = len(server.requests)
    assert main(["ask", QUESTION, "--json", "--no-llm"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "extractive" and out["llm"] is None
    assert len(server.requests) == n_requests  # --no-llm sends nothing
    monkeypatch.delenv("ASSISTANT_LLM_URL")
    assert main(["ask", QUESTION, "--llm"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --llm needs an endpoint") and "\n" not in err


def test_eval_questions_with_llm(seed_settings, embedder, server, tmp_path):
    from assistant.eval import run_questions

    server.respond(citing("The DEA and Mexico's Federal Police will lead the coordinated efforts [{n}].", DEA))
    qfile = tmp_path / "q.jsonl"
    qfile.write_text(json.dumps({"question": QUESTION, "source": SEED.name,
                                 "section": "Details of the Joint Operations",
                                 "answers": ["Federal Police"]}) + "\n")
    a = make(seed_settings, embedder, server)
    summary = run_questions(qfile, a, llm=True)
    r = summary["results"][0]
    assert r["mode"] == "llm" and r["answer_ok"] is True and r["fallback"] is None
    assert summary["tiers"]["answerable"]["answer"] == 1
