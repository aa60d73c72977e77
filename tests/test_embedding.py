"""The real embedder: chunk and sentence vectors, and sharing one instance between threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest


def test_chunk_vector_matches_the_models_own_encode(embedder):
    """Against SentenceTransformer.encode in the same precision: equal in fp32; in bf16 within
    the tolerance measured here (cosine >= 0.99999 seen, 0.9999 asserted)."""
    import contextlib

    import torch

    texts = ["Mexico and the United States announced joint operations.",
             "The DEA and Mexico's Federal Police will lead the coordinated efforts. They start soon."]
    spans = [[(0, len(texts[0]))], [(0, 70), (71, len(texts[1]))]]
    enc = embedder.encode_chunks(texts, spans, progress=False)
    bf16 = embedder.precision == "bf16"
    with torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
        ref = embedder.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    ref = np.asarray(ref, dtype=np.float32)
    if bf16:
        assert ((enc.vectors * ref).sum(1) >= 0.9999).all()
    else:
        assert np.allclose(enc.vectors, ref, atol=1e-5)
    assert [len(v) for v in enc.sentence_vectors] == [1, 2]
    # A one-sentence text's sentence vector is its tokens' mean without [CLS]/[SEP]: close to,
    # not equal to, the chunk vector.
    assert 0.9 < float(enc.sentence_vectors[0][0] @ enc.vectors[0]) < 1.0
    for sv in enc.sentence_vectors:
        assert np.allclose(np.linalg.norm(sv, axis=1), 1.0, atol=1e-5)
    # The two sentences of the second text differ from each other.
    assert float(enc.sentence_vectors[1][0] @ enc.sentence_vectors[1][1]) < 0.95


def test_a_sentence_cut_off_by_truncation_gets_the_chunk_vector(embedder):
    text = "word " * 400 + "Tail sentence beyond the model's limit."
    tail = text.index("Tail")
    enc = embedder.encode_chunks([text], [[(0, 20), (tail, len(text))]], progress=False)
    assert np.allclose(enc.sentence_vectors[0][1], enc.vectors[0], atol=1e-6)
    assert enc.tokens == 256


@pytest.mark.heavy
def test_one_embedder_shared_by_threads_that_count_encode_and_embed(embedder):
    """The app shares one Embedder between chat sessions (questions) and a build started from
    the page (token counting, chunk embedding), with no lock around the tokenizer. Older fast
    tokenizers failed with "Already borrowed" when entered by two threads with other padding or
    truncation settings; with the versions installed none of these calls may fail."""
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run(fn):
        try:
            start.wait()
            for i in range(40):
                fn(i)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    texts = [f"Sentence number {i} about cross-border cooperation. " * (1 + i % 5) for i in range(8)]
    workers = [
        lambda i: embedder.count_tokens(texts),
        lambda i: embedder.count_tokens(["x " * 300]),
        lambda i: embedder.encode_queries([f"Who will lead operation {i}?"]),
        lambda i: embedder.encode_chunks(texts[:2], [[(0, 10)], [(0, 10)]], progress=False),
    ]
    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
