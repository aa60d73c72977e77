"""Article Assistant: offline question answering over articles with section citations."""

__version__ = "0.1.0"
