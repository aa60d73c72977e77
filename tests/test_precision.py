"""Embedding precision (bf16 where the CPU has it natively): the `auto` choice, both paths with
the real model, their agreement, and what the index records."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant import embedding
from assistant.config import Settings
from assistant.embedding import Embedder, resolve_precision
from assistant.errors import AssistantError

TEXTS = ["Mexico and the United States announced joint operations against cross-border crime.",
         "The Drug Enforcement Administration will lead the coordinated efforts. They start soon.",
         "More than 110,000 overdose deaths were recorded, most of them from fentanyl."]
SPANS = [[(0, len(TEXTS[0]))], [(0, 71), (72, len(TEXTS[1]))], [(0, len(TEXTS[2]))]]


@pytest.fixture(scope="module")
def both():
    """The real model in each precision."""
    return {p: Embedder(precision=p) for p in ("fp32", "bf16")}


def test_auto_picks_fp32_without_native_bf16(monkeypatch):
    embedding.native_bf16.cache_clear()
    import torch

    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    try:
        assert resolve_precision("auto") == "fp32"
        assert Embedder(precision="auto").precision == "fp32"
        # Asked for explicitly, bf16 is used even where it is emulated.
        assert resolve_precision("bf16") == "bf16"
    finally:
        embedding.native_bf16.cache_clear()


def test_auto_picks_bf16_with_native_bf16(monkeypatch):
    embedding.native_bf16.cache_clear()
    import torch

    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    try:
        assert resolve_precision("auto") == "bf16"
    finally:
        embedding.native_bf16.cache_clear()


def test_cpu_flags_decide_when_torch_cannot_say(monkeypatch):
    embedding.native_bf16.cache_clear()
    import torch

    def missing():
        raise AttributeError("no probe")

    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", missing)
    try:
        monkeypatch.setattr(embedding, "_cpu_flags", lambda: {"avx2", "avx512f"})
        assert resolve_precision("auto") == "fp32"
        embedding.native_bf16.cache_clear()
        monkeypatch.setattr(embedding, "_cpu_flags", lambda: {"avx512f", "avx512_bf16"})
        assert resolve_precision("auto") == "bf16"
    finally:
        embedding.native_bf16.cache_clear()


def test_a_bad_precision_setting_is_one_line_naming_the_variable(monkeypatch):
    monkeypatch.setenv("ASSISTANT_PRECISION", "fp8")
    with pytest.raises(AssistantError) as exc:
        Settings()
    msg = str(exc.value)
    assert "ASSISTANT_PRECISION" in msg and "fp8" in msg and "auto, bf16, fp32" in msg
    assert "\n" not in msg
    monkeypatch.setenv("ASSISTANT_PRECISION", "FP32")
    assert Settings().precision == "fp32"


def test_a_bad_number_setting_is_one_line(monkeypatch):
    monkeypatch.setenv("ASSISTANT_TOP_K", "five")
    with pytest.raises(AssistantError, match="ASSISTANT_TOP_K='five' is not a whole number"):
        Settings()


def test_both_precisions_agree_on_chunks_sentences_and_questions(both):
    a = both["fp32"].encode_chunks(TEXTS, SPANS, progress=False)
    b = both["bf16"].encode_chunks(TEXTS, SPANS, progress=False)
    assert a.tokens == b.tokens
    assert b.vectors.dtype == np.float32
    cos = (a.vectors * b.vectors).sum(1)
    assert (cos >= 0.9999).all(), cos
    assert not np.array_equal(a.vectors, b.vectors)  # bf16 really ran: not the same numbers
    for x, y in zip(a.sentence_vectors, b.sentence_vectors):
        assert ((x * y).sum(1) >= 0.9999).all()
    q = ["Who leads the joint operations?", "How many people died of overdoses?"]
    qa, qb = both["fp32"].encode_queries(q), both["bf16"].encode_queries(q)
    assert ((qa * qb).sum(1) >= 0.9999).all()
    assert np.allclose(np.linalg.norm(qb, axis=1), 1.0, atol=1e-5)


def test_bf16_build_records_its_precision_and_a_change_does_not_rebuild(tmp_path, both, seed_path):
    import shutil

    from assistant.index import layout
    from assistant.index.builder import build
    from assistant.service import Assistant

    corpus, index = tmp_path / "c", tmp_path / "i"
    corpus.mkdir()
    shutil.copy(seed_path, corpus / seed_path.name)
    s = Settings().replace(corpus_dir=corpus, index_dir=index)
    r1 = build(s, embedder=both["bf16"], log=lambda m: None, progress=False)
    m1 = json.loads((layout.current_build_dir(index) / "manifest.json").read_text())
    assert m1["precision"] == "bf16" and r1.embedded_chunks > 0
    # The same corpus with fp32 query encoding: up to date, nothing re-embedded.
    r2 = build(s, embedder=both["fp32"], log=lambda m: None, progress=False)
    assert r2.up_to_date
    # A new file embedded in fp32 next to reused bf16 vectors: the manifest says so.
    (corpus / "extra.txt").write_text("Extra article\n\nA second article about border trade.\n")
    r3 = build(s, embedder=both["fp32"], log=lambda m: None, progress=False)
    assert r3.embedded_chunks == 1
    m3 = json.loads((layout.current_build_dir(index) / "manifest.json").read_text())
    assert m3["precision"] == "mixed (bf16 and fp32)"
    a = Assistant.open(settings=s, embedder=both["fp32"])
    st = a.status()
    assert st.precision == "mixed (bf16 and fp32)" and st.query_precision == "fp32"
    assert not a.ask("Who leads the joint operations?").abstained


def test_a_manifest_without_precision_still_opens(tmp_path, both, seed_path):
    """Builds made before precision was recorded (all fp32) open and report fp32."""
    import shutil

    from assistant.cli import main
    from assistant.index import layout
    from assistant.index.builder import build
    from assistant.service import Assistant

    corpus, index = tmp_path / "c", tmp_path / "i"
    corpus.mkdir()
    shutil.copy(seed_path, corpus / seed_path.name)
    s = Settings().replace(corpus_dir=corpus, index_dir=index)
    build(s, embedder=both["fp32"], log=lambda m: None, progress=False)
    path = layout.current_build_dir(index) / "manifest.json"
    m = json.loads(path.read_text())
    del m["precision"]
    path.write_text(json.dumps(m))
    a = Assistant.open(settings=s, embedder=both["bf16"])
    assert a.status().precision == "fp32"
    assert a.ask("Which drug drives the overdose crisis?").citations
    assert build(s, embedder=both["bf16"], log=lambda m: None, progress=False).up_to_date
    assert main(["status", "--corpus", str(corpus), "--index", str(index)]) == 0
