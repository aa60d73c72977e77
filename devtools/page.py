"""The one walker over a streamlit.testing page (AppTest) for the tests: the strings its elements
render, with whether the element renders them as HTML."""

from __future__ import annotations

BODY = ("body",)


def page_strings(at, attrs: tuple[str, ...] = BODY) -> list[tuple[str, str, bool]]:
    """(element type, text, HTML allowed) for each non-empty string attribute `attrs` of every
    element of the page, in page order. "body" is what markdown, caption, html, alerts... show;
    add "label", "placeholder", "message" or "value" for widgets and exceptions."""
    out = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "?")
        html = kind == "html" or bool(getattr(proto, "allow_html", False))
        for attr in attrs:
            value = getattr(proto, attr, None)
            if isinstance(value, str) and value:
                out.append((kind, value, html))
    return out


def page_text(at, attrs: tuple[str, ...] = ("body", "label", "placeholder")) -> str:
    return "\n".join(text for _, text, _ in page_strings(at, attrs))
