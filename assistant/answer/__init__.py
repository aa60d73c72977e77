"""Answering: retrieve, then read. Readers behind one interface (extractive, llm + verify)."""
