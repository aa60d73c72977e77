"""Embedding on a Ray cluster (`assistant build --ray [ADDRESS]`).

`RayEmbedder` has the local `Embedder`'s build interface (name, dim, precision, count_tokens,
encode_chunks), so `indexing.build` writes exactly the same build whichever one embeds. Only the
model's forward passes move to the cluster: a Ray Data `map_batches` over an actor pool, each actor
holding one `Embedder` (the same code, offline model and precision rule as a local build). Reading,
chunking, token counting and writing the build stay in this process, next to the index folder.

Ray is an optional extra (`pip install '.[ray]'`); it is imported only when a build asks for it.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .embedding import MAX_SEQ, MODEL_DIM, MODEL_NAME, Embedder, EncodedChunks, resolve_precision
from .errors import AssistantError

INSTALL_HINT = ("Ray is not installed: pip install 'article-assistant[ray]' "
                "(or: pip install '.[ray]')")
ROWS_PER_CALL = 128  # chunks handed to an actor at once (rounded to whole model batches)


def import_ray():
    try:
        import ray
        import ray.data  # the extra brings pyarrow and pandas for Ray Data
    except ImportError:
        raise AssistantError(INSTALL_HINT) from None
    return ray


def _unreachable(address: str, timeout: float = 5.0) -> str | None:
    """Why nothing answers at host:port (a TCP connect), or None; other address forms (Ray's
    "auto") are left to Ray."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return None
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def _spend_log_once(key: str) -> None:
    try:
        from ray.util.debug import log_once

        log_once(key)
    except ImportError:  # pragma: no cover - only a message would come back
        pass


class _EmbedActor:
    """One model per actor, loaded once when the actor starts, so a call is forward passes only."""

    def __init__(self, threads: int, batch_size: int, precision: str):
        self.embedder = Embedder(threads=threads, batch_size=batch_size, precision=precision)
        self.embedder.model  # noqa: B018 - load now, not inside the first call

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        spans: list = [np.asarray(s, dtype=np.int64).reshape(-1, 2) for s in batch["spans"]]
        enc = self.embedder.encode_chunks(texts, spans, progress=False)
        n = len(texts)
        # encode_chunks counts the word pieces of the whole call; the first row carries them.
        tokens = np.zeros(n, dtype=np.int64)
        tokens[0] = enc.tokens
        sentences = np.empty(n, dtype=object)
        sentences[:] = [s.reshape(-1) for s in enc.sentence_vectors]
        return {"row": np.asarray(batch["row"], dtype=np.int64), "vector": enc.vectors,
                "sentences": sentences, "tokens": tokens,
                "precision": np.full(n, self.embedder.precision)}


class RayEmbedder:
    """`address=None` starts a local Ray for the build and stops it afterwards; an address
    ("host:6379", or "ray://host:10001" for Ray Client) connects to a running cluster and ships
    this `assistant` package to its workers, so they run the driver's code. An already connected
    Ray (`ray.init` by the caller) is used as it is and left running."""

    name = MODEL_NAME
    dim = MODEL_DIM

    def __init__(self, address: str | None = None, workers: int = 0, cpus_per_worker: int = 1,
                 batch_size: int = 16, precision: str = "auto", log=None):
        if workers < 0 or cpus_per_worker < 1:
            raise AssistantError(f"Ray workers {workers} / CPUs per worker {cpus_per_worker}: "
                                 "use workers >= 0 (0: one per cluster CPU slot) and CPUs >= 1.")
        self.address = address
        self._check_reachable()  # both before the corpus is read, not after
        import_ray()
        self.workers = workers
        self.cpus_per_worker = cpus_per_worker
        self.batch_size = batch_size
        self.requested_precision = precision
        # What the actors will choose if their CPUs are like this one; replaced by what they
        # report once they have run (a cluster's nodes may differ from the driver's).
        self.precision = resolve_precision(precision)
        self._local = Embedder(batch_size=batch_size, precision=precision)  # tokenizer only
        self._log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))

    @classmethod
    def from_settings(cls, settings, address: str | None = None, **kwargs) -> RayEmbedder:
        return cls(address, batch_size=settings.batch_size, precision=settings.precision, **kwargs)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._local.count_tokens(texts)

    @contextmanager
    def _session(self, ray):
        """Connect (or start a local Ray) for one encode, and always disconnect: a build never
        leaves Ray processes or a driver connection behind."""
        if ray.is_initialized():
            yield
            return
        kwargs: dict = {"include_dashboard": False, "log_to_driver": False,
                        "configure_logging": False}
        if self.address:
            import assistant

            kwargs["address"] = self.address
            kwargs["runtime_env"] = {"py_modules": [str(Path(assistant.__file__).parent)]}
        else:  # "local": a new Ray, never one that happens to run on this machine
            kwargs["address"] = "local"
        self._check_reachable()
        try:
            ray.init(**kwargs)
        except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as exc:
            why = " ".join(str(exc).split())[:160]
            if self.address:  # listening, but no answer: Ray says no more than that
                why += "; a cluster with token authentication also needs RAY_AUTH_MODE=token " \
                       "and its RAY_AUTH_TOKEN here"
            raise self._unreached(why) from None
        try:
            yield
        finally:
            ray.shutdown()

    def _unreached(self, why: str) -> AssistantError:
        where = f"the Ray cluster at {self.address}" if self.address else "a local Ray"
        return AssistantError(f"could not reach {where} ({why}): check the address (`ray "
                              "status` on the head node) or leave it out to start a local Ray.")

    def _check_reachable(self) -> None:
        """Up front and again when connecting: where nothing listens, ray.init retries for
        minutes (10 measured here) before it gives up."""
        why = _unreachable(self.address) if self.address else None
        if why:
            raise self._unreached(why)

    def _pool_size(self, ray) -> int:
        if self.workers:
            return self.workers
        cpus = ray.cluster_resources().get("CPU", 1)
        return max(1, int(cpus // self.cpus_per_worker))

    def _calls(self, texts, sentence_spans) -> list:
        """The texts in the order and batches a local build would embed them (longest first by
        word pieces, `batch_size` at a time), cut into calls of whole batches: every forward pass
        then has the same texts and padding as locally, and so the same numbers."""
        import pandas as pd

        enc = self._local.tokenizer(list(texts), truncation=True, max_length=MAX_SEQ,
                                    return_attention_mask=False, return_token_type_ids=False)
        lengths = np.fromiter((len(x) for x in enc["input_ids"]), dtype=np.int64)
        order = np.argsort(-lengths, kind="stable")
        step = max(1, ROWS_PER_CALL // self.batch_size) * self.batch_size
        return [pd.DataFrame({
            "row": order[b0: b0 + step],
            "text": [texts[i] for i in order[b0: b0 + step]],
            "spans": [np.asarray(sentence_spans[i], dtype=np.int64).reshape(-1)
                      for i in order[b0: b0 + step]]})
            for b0 in range(0, len(texts), step)]

    def encode_chunks(self, texts: Sequence[str],
                      sentence_spans: Sequence[Sequence[tuple[int, int]]],
                      progress: bool | None = None, on_progress=None) -> EncodedChunks:
        """One Ray Data block per call (see `_calls`); results come back in any order and are
        put in place by their row number."""
        n = len(texts)
        vectors = np.zeros((n, self.dim), dtype=np.float32)
        sent_vecs: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * n
        if n == 0:
            return EncodedChunks(vectors, sent_vecs, 0)
        ray = import_ray()
        calls = self._calls(texts, sentence_spans)
        tokens, done, precisions = 0, 0, set[str]()
        show = sys.stderr.isatty() if progress is None else progress
        from tqdm import tqdm

        with self._session(ray):
            ctx = ray.data.DataContext.get_current()
            ctx.enable_progress_bars = False  # ours below, as in a local build
            _spend_log_once("ray_data_progress_manager_disabled")  # "bars disabled": we know
            size = min(self._pool_size(ray), len(calls))
            self._log(f"embedding {n} chunks on Ray: {size} worker(s) of {self.cpus_per_worker} "
                      f"CPU(s) at {self.address or 'a local Ray'}")
            ds = ray.data.from_pandas(calls).map_batches(
                _EmbedActor, batch_size=None, batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=size), num_cpus=self.cpus_per_worker,
                fn_constructor_kwargs={"threads": self.cpus_per_worker,
                                       "batch_size": self.batch_size,
                                       "precision": self.requested_precision})
            bar = tqdm(total=n, unit="chunk", desc="Embedding (Ray)", disable=not show,
                       file=sys.stderr)
            for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
                rows = batch["row"]
                vectors[rows] = batch["vector"]
                for row, flat in zip(rows, batch["sentences"]):
                    sent_vecs[row] = np.asarray(flat, dtype=np.float32).reshape(-1, self.dim)
                tokens += int(batch["tokens"].sum())
                precisions.update(str(p) for p in batch["precision"])
                done += len(rows)
                bar.update(len(rows))
                if on_progress is not None:
                    on_progress(done, n)
            bar.close()
        if done != n:  # pragma: no cover - Ray Data returns every row or raises
            raise AssistantError(f"Ray returned {done} of {n} chunk vectors; build not written.")
        self.precision = precisions.pop() if len(precisions) == 1 else "mixed (bf16 and fp32)"
        return EncodedChunks(vectors, sent_vecs, tokens)
