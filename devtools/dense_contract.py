"""The contract every DenseIndex (assistant/index/dense.py) must keep, as a test class to
subclass (in the manner of Haystack's document-store test classes): a subclass in tests/ gives
`make_index(vectors)` and pytest runs every check against it. A new vector backend passes this
before it is wired into the index."""

from __future__ import annotations

import numpy as np
import pytest


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


class DenseIndexContract:
    """Subclass as `TestSomething(DenseIndexContract)` and define make_index."""

    n = 300
    exact = True  # an approximate index may miss a neighbour; it must still find itself

    def make_index(self, vectors: np.ndarray, tmp_path):
        raise NotImplementedError

    @pytest.fixture
    def vectors(self) -> np.ndarray:
        return unit_vectors(self.n)

    @pytest.fixture
    def index(self, vectors, tmp_path):
        return self.make_index(vectors, tmp_path)

    def test_count_is_the_number_of_rows(self, index, vectors):
        assert index.count == len(vectors)

    def test_vectors_of_rows_are_the_stored_ones(self, index, vectors):
        rows = np.array([0, 7, 42, len(vectors) - 1], dtype=np.int64)
        got = index.vectors(rows)
        assert got.dtype == np.float32 and got.shape == (4, vectors.shape[1])
        np.testing.assert_allclose(got, vectors[rows], atol=2e-3)  # float16 codes allowed

    def test_search_finds_each_vector_first_with_its_cosine(self, index, vectors):
        queries = vectors[[3, 150, 299]]
        scores, ids = index.search(queries, 5)
        assert ids.shape == scores.shape == (3, 5)
        assert ids[:, 0].tolist() == [3, 150, 299]
        np.testing.assert_allclose(scores[:, 0], 1.0, atol=2e-3)
        assert (np.diff(scores, axis=1) <= 1e-6).all()  # best first

    def test_search_ranks_like_exact_inner_product(self, index, vectors):
        q = unit_vectors(1, vectors.shape[1], seed=9)
        scores, ids = index.search(q, 10)
        exact = np.argsort(-(vectors @ q[0]), kind="stable")[:10]
        if self.exact:
            assert ids[0].tolist() == exact.tolist()
            np.testing.assert_allclose(scores[0], vectors[exact] @ q[0], atol=1e-5)
        else:
            assert len(set(ids[0].tolist()) & set(exact.tolist())) >= 8

    def test_row_filter_keeps_the_search_inside_the_rows(self, index, vectors):
        rows = np.array([5, 17, 18, 240], dtype=np.int64)
        scores, ids = index.search(vectors[[17]], 3, rows)
        assert set(ids[0].tolist()) <= set(rows.tolist())
        assert ids[0, 0] == 17

    def test_fewer_rows_than_k_are_padded_with_minus_one(self, index, vectors):
        rows = np.array([1, 2], dtype=np.int64)
        _, ids = index.search(vectors[[1]], 4, rows)
        assert sorted(ids[0][ids[0] >= 0].tolist()) == [1, 2]
        assert (ids[0][2:] == -1).all()
