"""The dense side of a build: the chunk index (FAISS) and the sentence vectors.

Both are memory-mapped when a build is opened, so a reader's memory does not grow with the
index: the operating system pages in what questions touch. Small builds stay exact (a flat
float32 index, float16 sentence vectors), so their answers do not change; above `FLAT_LIMIT`
chunks the index is an IVF over float16 codes and the sentence vectors are int8 (one scale
per vector), which keeps a million-chunk build within a few gigabytes (see BENCHMARKS.md,
"Scale").
"""

from __future__ import annotations

import math
import zlib
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

# Chunks up to which the index is exact (flat). A question searches twice (the second pass is
# the feedback pass); on 2 busy cores a flat search for the top 100 took 31 ms at 100,000 chunks
# and 58 ms at 200,000, IVF 2 and 5 ms (benchmarks/bench_scale.py --sweep): past 100,000 exact
# search would eat most of the 150 ms a question may take.
FLAT_LIMIT = 100_000
BLOCK = 65_536  # rows copied at a time, so copying a large build needs little memory


def index_plan(n: int) -> dict:
    """The FAISS index for n chunks, as recorded in the manifest."""
    if n <= FLAT_LIMIT:
        return {"type": "FlatIP"}
    # About 4 sqrt(n) lists (a power of two), with at least 40 training vectors per list.
    nlist = min(2 ** round(math.log2(4 * math.sqrt(n))), max(1, n // 40))
    # A quarter of the lists: recall@10 against exact search 0.996 at 300,000 chunks, where an
    # eighth gave 0.990 and a sixteenth 0.976 (benchmarks/bench_scale.py, BENCHMARKS.md).
    return {"type": "IVF-SQfp16", "nlist": nlist, "nprobe": min(nlist, max(32, nlist // 4))}


def sentence_precision(n_chunks: int) -> str:
    return "float16" if n_chunks <= FLAT_LIMIT else "int8"


def text_packing(n_chunks: int) -> str:
    """How section text is stored in meta.sqlite: as text when small, zlib-compressed when
    large (about 40% less; a question unpacks only the few sections it shows)."""
    return "text" if n_chunks <= FLAT_LIMIT else "zlib"


def pack_text(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), 6)


def unpack_text(blob: bytes | str) -> str:
    return blob if isinstance(blob, str) else zlib.decompress(blob).decode("utf-8")


# ---------------------------------------------------------------------------- chunk index

class DenseIndex(Protocol):
    """The chunk vectors of a build, by row (the row is the chunk's row in the database).
    Scores are inner products of L2-normalised vectors (cosine). Any implementation must pass
    devtools/dense_contract.py (run by tests/test_dense.py)."""

    @property
    def count(self) -> int: ...

    def search(self, queries: np.ndarray, k: int, rows: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows), each (len(queries), k), best first; only among `rows` when given;
        row -1 (score undefined) where fewer than k rows are found."""
        ...

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of `rows` (int64), float32 (n, d)."""
        ...


class FaissIndex:
    """A FAISS index (exact flat, or IVF over float16 codes) as a DenseIndex."""

    def __init__(self, index):
        self.index = index  # the faiss object (writer.py copies an IVF's codes from it)

    @classmethod
    def open(cls, path: Path, plan: dict) -> FaissIndex:
        return cls(open_index(path, plan))

    @property
    def count(self) -> int:
        return int(self.index.ntotal)

    def search(self, queries: np.ndarray, k: int, rows: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        params = search_params(self.index, rows) if rows is not None else None
        return self.index.search(queries, k, params=params)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        return self.index.reconstruct_batch(rows)


def open_index(path: Path, plan: dict):
    """The chunk index, memory-mapped; an IVF index gets the row -> code map that
    `reconstruct` needs (built from its ids, a few MB)."""
    import faiss

    index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
    if isinstance(index, faiss.IndexIVF):
        index.nprobe = int(plan.get("nprobe", 64))
        index.make_direct_map()
    return index


def write_index(path: Path, plan: dict, dim: int, kept: Iterator[np.ndarray], new: np.ndarray,
                base=None, remap: np.ndarray | None = None) -> None:
    """Write the index of the kept chunks (float32 blocks in row order) followed by `new`.
    When the previous build's index is an IVF of the same shape (`base`, with `remap` old row
    -> new row or -1), its trained centroids and codes are reused, so an update costs a copy
    plus the new chunks, not a retraining."""
    import faiss

    if plan["type"] == "FlatIP":
        index = faiss.IndexFlatIP(dim)
        for block in kept:
            index.add(block)
        if len(new):
            index.add(np.ascontiguousarray(new, dtype=np.float32))
    elif base is not None and _same_ivf(base, plan):
        index = _ivf(base.quantizer.reconstruct_n(0, base.nlist), plan)
        assert remap is not None  # given with `base`
        n_kept = _copy_codes(base, index, remap)
        if len(new):
            index.add_with_ids(np.ascontiguousarray(new, dtype=np.float32),
                               np.arange(n_kept, n_kept + len(new), dtype=np.int64))
    else:
        blocks = [*kept]
        if len(new):
            blocks.append(np.ascontiguousarray(new, dtype=np.float32))
        index = _ivf(_centroids(blocks, plan["nlist"]), plan)
        start = 0
        for block in blocks:
            index.add_with_ids(block, np.arange(start, start + len(block), dtype=np.int64))
            start += len(block)
    faiss.write_index(index, str(path))


def search_params(index, rows: np.ndarray):
    """Search parameters restricting a search to `rows` (an article filter); an IVF index takes
    its own kind, which also carries its nprobe."""
    import faiss

    sel = faiss.IDSelectorBatch(np.ascontiguousarray(rows, dtype=np.int64))
    if isinstance(index, faiss.IndexIVF):
        # (faiss's generated stubs omit the keyword arguments its constructors take)
        return faiss.SearchParametersIVF(sel=sel, nprobe=index.nprobe)  # type: ignore[call-arg]
    return faiss.SearchParameters(sel=sel)  # type: ignore[call-arg]


def _same_ivf(base, plan: dict) -> bool:
    import faiss

    return isinstance(base, faiss.IndexIVFScalarQuantizer) and base.nlist == plan["nlist"]


def _ivf(centroids: np.ndarray, plan: dict):
    import faiss

    dim = centroids.shape[1]
    quantizer = faiss.IndexFlatIP(dim)
    quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, plan["nlist"],
                                          faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    index.is_trained = True  # float16 codes need no training; the centroids are given
    return index


def _centroids(blocks: list[np.ndarray], nlist: int, per_centroid: int = 40) -> np.ndarray:
    """k-means centroids (spherical: inner product) from an even sample of the vectors."""
    import faiss

    n = sum(len(b) for b in blocks)
    take = min(n, nlist * per_centroid)
    rng = np.random.default_rng(0)
    picks = np.sort(rng.choice(n, take, replace=False))
    sample, start = [], 0
    for b in blocks:
        mine = picks[(picks >= start) & (picks < start + len(b))] - start
        sample.append(b[mine])
        start += len(b)
    km = faiss.Kmeans(sample[0].shape[1], nlist, niter=10, spherical=True, seed=1,
                      max_points_per_centroid=per_centroid)
    km.train(np.concatenate(sample).astype(np.float32))
    return np.asarray(km.centroids)


def _copy_codes(base, index, remap: np.ndarray) -> int:
    """Copy the base IVF's codes of kept rows, list by list, renumbered by `remap`."""
    import faiss

    src = base.invlists
    dst = index.invlists
    size = src.code_size
    total = 0
    for lst in range(base.nlist):
        n = src.list_size(lst)
        if not n:
            continue
        ids = remap[faiss.rev_swig_ptr(src.get_ids(lst), n)]
        codes = faiss.rev_swig_ptr(src.get_codes(lst), n * size).reshape(n, size)
        keep = ids >= 0
        if keep.any():
            new_ids = np.ascontiguousarray(ids[keep], dtype=np.int64)
            new_codes = np.ascontiguousarray(codes[keep])
            dst.add_entries(lst, len(new_ids), faiss.swig_ptr(new_ids), faiss.swig_ptr(new_codes))
            total += len(new_ids)
    index.ntotal = total
    return total


def kept_vectors(base, rows: np.ndarray) -> Iterator[np.ndarray]:
    """The previous build's chunk vectors of `rows` (sorted), float32, a block at a time."""
    for lo in range(0, len(rows), BLOCK):
        yield np.ascontiguousarray(base.reconstruct_batch(rows[lo:lo + BLOCK].astype(np.int64)),
                                   dtype=np.float32)


# ---------------------------------------------------------------------------- sentence vectors

class Int8Vectors:
    """Sentence vectors stored as int8 with one float32 scale per vector; slicing gives float32
    (what answering reads), the codes stay memory-mapped."""

    def __init__(self, codes: np.ndarray, scales: np.ndarray):
        self.codes = codes
        self.scales = scales
        self.shape = codes.shape
        self.ndim = codes.ndim
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, key) -> np.ndarray:
        return self.codes[key].astype(np.float32) * self.scales[key][..., None]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self[:]
        return out if dtype is None else out.astype(dtype)


def quantize_int8(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v = np.asarray(v, dtype=np.float32)
    scale = np.abs(v).max(axis=1) / 127.0 if len(v) else np.zeros(0, np.float32)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    return np.round(v / scale[:, None]).astype(np.int8), scale


def open_sentences(build_dir: Path, precision: str):
    codes = np.load(build_dir / "sentences.npy", mmap_mode="r")
    if precision == "int8":
        return Int8Vectors(codes, np.load(build_dir / "sentence_scales.npy", mmap_mode="r"))
    return codes


def write_sentences(build_dir: Path, precision: str, dim: int, n: int,
                    blocks: Iterator[np.ndarray]) -> None:
    """Write n sentence vectors given as float blocks in row order, without holding them all."""
    from numpy.lib.format import open_memmap

    dtype = np.int8 if precision == "int8" else np.float16
    out = open_memmap(build_dir / "sentences.npy", mode="w+", dtype=dtype, shape=(n, dim))
    scales = np.zeros(n, np.float32)
    at = 0
    for block in blocks:
        if isinstance(block, tuple):  # already stored in this precision: copied as it is
            block, block_scales = block
            if block_scales is not None:
                scales[at:at + len(block)] = block_scales
            out[at:at + len(block)] = block
        elif precision == "int8":
            out[at:at + len(block)], scales[at:at + len(block)] = quantize_int8(block)
        else:
            out[at:at + len(block)] = block
        at += len(block)
    if at != n:
        raise ValueError(f"{at} sentence vectors written, {n} expected")
    out.flush()
    del out
    if precision == "int8":
        np.save(build_dir / "sentence_scales.npy", scales)


def kept_sentences(old, mask: np.ndarray, precision: str) -> Iterator:
    """Rows of the previous build's sentence vectors where `mask` is set, in blocks: as stored
    (codes, scales) when the new build keeps the same precision, else float32."""
    same = isinstance(old, Int8Vectors) == (precision == "int8")
    for lo in range(0, len(mask), BLOCK):
        m = mask[lo:lo + BLOCK]
        if not m.any():
            continue
        if same and isinstance(old, Int8Vectors):
            yield np.asarray(old.codes[lo:lo + BLOCK])[m], np.asarray(old.scales[lo:lo + BLOCK])[m]
        elif same:
            yield np.asarray(old[lo:lo + BLOCK])[m], None
        else:
            yield np.asarray(old[lo:lo + BLOCK], dtype=np.float32)[m]
