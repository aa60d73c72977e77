"""A deterministic stand-in for the embedder, for fast unit tests and the fuzz/reliability
benchmarks that must not load the model."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from assistant.embedding import EncodedChunks

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class FakeEmbedder:
    """Deterministic, hash-based stand-in for `Embedder`: a signed bag of hashed words.
    Texts that share words get similar vectors, so it is usable for retrieval logic too.
    `calls` counts the texts passed to encode_chunks (how much "embedding" a build did)."""

    name = "test/fake-hash-embedder"
    dim = 384
    precision = "fp32"  # the manifest records what the real model would have used

    def __init__(self):
        self.calls = 0
        self.encoded_texts: list[str] = []

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(_TOKEN.findall(t)) for t in texts]

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in _TOKEN.findall(text.lower()):
            h = hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest()
            v[int.from_bytes(h[:4], "little") % self.dim] += 1.0 if h[4] & 1 else -1.0
        norm = float(np.linalg.norm(v))
        if norm == 0.0:  # no words: a fixed direction from the text's hash
            h = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
            v[int.from_bytes(h[:4], "little") % self.dim] = 1.0
            norm = 1.0
        return v / norm

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts]).astype(np.float32)

    def encode_chunks(self, texts: Sequence[str], sentence_spans, progress=None,
                      on_progress=None) -> EncodedChunks:
        self.calls += len(texts)
        self.encoded_texts.extend(texts)
        vectors = self.encode_queries(texts) if texts else np.zeros((0, self.dim), np.float32)
        sent = []
        for text, spans in zip(texts, sentence_spans):
            if len(spans):
                sent.append(np.stack([self._vector(text[s:e]) for s, e in spans]))
            else:
                sent.append(np.zeros((0, self.dim), np.float32))
        tokens = sum(n + 2 for n in self.count_tokens(texts))
        if on_progress is not None and texts:
            on_progress(len(texts), len(texts))
        return EncodedChunks(vectors, sent, tokens)
