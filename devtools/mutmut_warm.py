"""Imported by mutmut's fork server (`make mutants`, [tool.mutmut] preload_modules_file): loads
the model once before the mutant workers fork. One torch thread: a process forked after torch
has started a thread pool can hang (plain fork stalled that way)."""
import os

os.environ.setdefault("ASSISTANT_TEST_MODEL_THREADS", "1")

from devtools import shared_model  # noqa: E402

_model = shared_model.embedder()
_model.encode_queries(["warm up the model before the workers fork"])
_model.count_tokens(["and the tokenizer"])
