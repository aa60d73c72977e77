"""The on-disk index: the only owner of its format (faiss, sqlite3 and bm25s live here)."""
