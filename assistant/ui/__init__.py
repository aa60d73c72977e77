"""Streamlit-free code of the app: escaping and HTML, feedback, the article catalog, the corpus
watch, sign-in."""
