"""Streamlit-free code of the app: escaping and HTML, feedback, the article catalog, the corpus
watch, sign-in; and what keeps the index fresh for it: the `assistant watch` updater
(watcher.py), the freshness lines and *Update now* (freshness.py), the warm start (warm.py)."""
