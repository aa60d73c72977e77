"""Corpus samples and questions shared by the app tests, the browser tests and the UI benchmark.

Answer calibration is still moving, so callers pick the first question that currently answers
(`first_answering`) rather than hard-coding one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "corpus" / "mexico-us-cross-border-crime-cooperation.txt"

# The hostile article: markup, Markdown and script in its title, headings and body. Plain text,
# so the loader keeps every character and the app is the only line of defence.
# The file's name is markup too, with a quote that would close an attribute (issue 26): every place
# that shows a file name (source card, closest passage, article view, export) must show it as text.
HOSTILE_FILE = '<img src=x onerror=alert(1)>".txt'
HOSTILE_SOURCE = HOSTILE_FILE
HOSTILE_TITLE = "Hostile Markup <script>alert('title')</script> \"Quoted\" & Report"
HOSTILE = f"""{HOSTILE_TITLE}
The zephyrine gadget <script>alert('xss')</script> was tested by the lab. The lab notes that <img src=x onerror=alert(1)> appears in the zephyrine log. A link [click here](javascript:alert(1)) was found in the zephyrine manual.
Zephyrine Testing **Bold** Results
# Not a heading but a hash line with *emphasis* and __underline__ and `code` and $x^2$ and :red[red].
The zephyrine gadget costs 4,200 dollars according to the <b>vendor</b> and the *official* price list.
Zephyrine Origins
The zephyrine gadget was invented in Oslo by engineer Ingrid Solberg in 2019. Her <iframe src="javascript:alert(2)"></iframe> design won an award.
"""

# (question, the section its answer should cite)
SEED_QUESTIONS = [
    ("Who will lead the coordinated efforts?", "Details of the Joint Operations"),
    ("How many overdose deaths were recorded?", "Context of the Partnership"),
    ("Which agencies will lead the coordinated efforts against drug cartels?",
     "Details of the Joint Operations"),
    ("How many drug overdose deaths did the CDC record from March 2021 to March 2022?",
     "Context of the Partnership"),
]
HOSTILE_QUESTIONS = [
    ("Who invented the zephyrine gadget?", "Zephyrine Origins"),
    ("What was found in the zephyrine manual?", HOSTILE_TITLE),
    ("How much does the zephyrine gadget cost?", "Zephyrine Testing **Bold** Results"),
]
OFF_CORPUS = "Who won the 2022 World Cup?"


def make_corpus(folder: Path, hostile: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, folder / SEED.name)
    if hostile:
        (folder / HOSTILE_SOURCE).write_text(HOSTILE, encoding="utf-8")
    return folder


def first_answering(assistant, candidates):
    """The first (question, section) whose answer is not an abstention and cites that section."""
    for q, section in candidates:
        ans = assistant.ask(q)
        if not ans.abstained and any(c.section == section for c in ans.citations):
            return q, section
    return None

# The UI and load benchmarks' questions about the seed article, the last ones off the corpus (an
# abstention is a good reply).
BENCH_QUESTIONS = [
    "Who will lead the coordinated efforts?",
    "How many overdose deaths were recorded?",
    "Who is the U.S. Secretary of Homeland Security?",
    "What did López Obrador say about the problem?",
    "What challenges remain for the partnership?",
    "What does the Mexican government grapple with?",
    "What do experts warn about?",
    "Who is Dr. Laura Y. Aizpuru?",
    "How have local communities reacted to the joint operations?",
    "What does Maria Gonzalez fear?",
    "Where is Laredo?",
    "What is the primary driver of the opioid crisis?",
    "What preventative measures are planned?",
    "What will the new operations include?",
    "Why has crime increased in recent years?",
    "What is essential to the success of the operations?",
    "When were the overdose deaths recorded?",
    "Who won the 2022 World Cup?",
    "What is the capital of France?",
    "How does photosynthesis work?",
]
