"""A corpus of two collections for access tests: politics/ holds the best answer to the budget
question (and many strong passages), sports/ a weaker one. Shared by tests/test_access*.py."""

from __future__ import annotations

from pathlib import Path

QUESTION = "What is the embargoed harbour budget figure?"
SECRET = "zephyrine"  # a word only the politics collection uses

POLITICS = """Embargoed harbour budget {i}

Budget figure

The embargoed harbour budget figure is 42 billion crowns, the {secret} memo says. The minister
set the embargoed harbour budget figure in the {secret} cabinet paper number {i}.
"""

SPORTS = """Stadium finances

Harbour stadium

The harbour stadium budget was discussed at the club meeting. Its budget figure is small,
about two million crowns for new seats.
"""

ROOT = """Reading guide

About

This archive holds stories of the newsroom, sorted into folders by desk.
"""

RULES = """default = "deny"
admins = ["chief@example.org"]
[collections.politics]
users = ["alice@example.org"]
groups = ["politics-desk"]
[collections.sports]
domains = ["sports.example.org"]
users = ["bob@example.org"]
"""


def make_access_corpus(root: Path, politics: int = 12) -> Path:
    for d in ("politics", "sports"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for i in range(politics):
        (root / "politics" / f"budget-{i}.txt").write_text(
            POLITICS.format(i=i, secret=SECRET), encoding="utf-8")
    (root / "sports" / "stadium.txt").write_text(SPORTS, encoding="utf-8")
    (root / "guide.txt").write_text(ROOT, encoding="utf-8")
    return root
