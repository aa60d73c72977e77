"""The administrators' feedback review page of the app (UI only; the logic is assistant/review.py).

Listed in the navigation for administrators only (named in the access rules); anyone else who
opens its URL gets a refusal and nothing of the feedback. Feedback text is untrusted (questions,
comments, answers quoting articles): it is shown escaped, never as live Markdown or HTML."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from assistant import review
from assistant.config import Settings
from assistant.ui import support as ui

PAGE_SIZE = 50


def review_page(settings: Settings, is_admin: bool) -> None:
    st.title("Feedback review")
    if not is_admin:
        st.error("This page is for administrators.", icon=":material/block:")
        return
    import workspace_ui as wsui
    from assistant.workspace import feedback as stored

    ws = wsui.workspace()
    if ws is None:
        st.error(ui.message_markdown(st.session_state.get("ws_problem") or
                                     "The app database cannot be opened."))
        return
    items, problems = review.merge_records(stored.list_feedback(ws), "the app database")
    for p in problems[:5]:
        st.warning(ui.message_markdown(p))
    if not items:
        st.info("No feedback yet. Ratings given under answers are listed here.")
        return
    cols = st.columns(3)
    rating = cols[0].radio("Rating", ["all", "down", "up"], horizontal=True, key="rv_rating",
                           format_func={"all": "All", "down": "👎 Down", "up": "👍 Up"}.get)
    days = [f.day for f in items if f.day]
    lo, hi = (min(days), max(days)) if days else (dt.date.today(), dt.date.today())
    picked = cols[1].date_input("Between", value=(lo, hi), key="rv_dates", format="YYYY-MM-DD")
    since, until = (picked if isinstance(picked, (tuple, list)) and len(picked) == 2
                    else (None, None))
    user = cols[2].text_input("User", key="rv_user", placeholder="Part of the address")
    shown = review.filter_feedback(items, None if rating == "all" else rating, since, until, user)
    st.caption(f"{len(shown)} of {len(items)} feedback item(s), newest first.")
    chosen = []
    for f in shown[:PAGE_SIZE]:
        with st.container(border=True):
            head = st.columns([1, 12])
            if head[0].checkbox("Select", key=f"rv-pick-{f.id}", label_visibility="collapsed"):
                chosen.append(f)
            head[1].markdown(f"{'👍' if f.rating == 'up' else '👎'} **"
                             f"{ui.escape_markdown(f.question)}**  \n"
                             f"{ui.escape_markdown(f.time)} · "
                             f"{ui.escape_markdown(f.user or 'anonymous')} · tier "
                             f"{ui.escape_markdown(f.tier or '?')}")
            st.text(f.answer)
            for c in f.citations:
                st.caption(ui.escape_markdown(
                    f"[{c.get('n')}] {c.get('article', '')} › {c.get('section', '')} "
                    f"({c.get('source', '')})"))
            if f.reasons or f.comment or f.expected_source:
                why = ", ".join(review.REASONS[r] for r in f.reasons)
                st.markdown("**What was wrong:** " + ui.escape_markdown(why or "(not said)")
                            + (f"  \n**Comment:** {ui.escape_markdown(f.comment)}"
                               if f.comment else "")
                            + (f"  \n**The answer is in:** "
                               f"{ui.escape_markdown(f.expected_source)}"
                               if f.expected_source else ""))
    if len(shown) > PAGE_SIZE:
        st.caption(f"The first {PAGE_SIZE} are listed; narrow the filters to see others.")
    st.download_button(
        f"Export {len(chosen)} selected as evaluation questions", icon=":material/download:",
        data=review.export_questions(chosen), file_name="feedback-questions.jsonl",
        mime="application/jsonl", disabled=not chosen, on_click="ignore", key="rv_export")
    st.caption("Then: `assistant eval questions feedback-questions.jsonl --report report/` "
               "after each change (see README, \"From complaints to questions\").")
