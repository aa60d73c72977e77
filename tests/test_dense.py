"""The FAISS indexes a build writes (exact flat; IVF over float16 codes above FLAT_LIMIT) keep the
DenseIndex contract (devtools/dense_contract.py), read back as a build opens them."""

from __future__ import annotations

from assistant.index import dense
from devtools.dense_contract import DenseIndexContract


def _written(vectors, tmp_path, plan):
    path = tmp_path / "vectors.faiss"
    dense.write_index(path, plan, vectors.shape[1], iter([vectors]), vectors[:0])
    return dense.FaissIndex.open(path, plan)


class TestFlatFaissIndex(DenseIndexContract):
    def make_index(self, vectors, tmp_path):
        plan = dense.index_plan(len(vectors))
        assert plan["type"] == "FlatIP"
        return _written(vectors, tmp_path, plan)


class TestIVFFaissIndex(DenseIndexContract):
    exact = False

    def make_index(self, vectors, tmp_path):
        # The large-build plan at a small size: 8 lists, all probed (as a small IVF build is).
        return _written(vectors, tmp_path, {"type": "IVF-SQfp16", "nlist": 8, "nprobe": 8})
