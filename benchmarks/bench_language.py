"""The language notice (assistant/answer/language.py): false alarms on English questions and hits on
French, German and Spanish ones.

    .venv/bin/python -m benchmarks.bench_language [--data ../shared/data]

English sets: the project's question sets (examples/*.jsonl, benchmarks/questions/*.jsonl), the
SQuAD v2 dev-half questions and the SciFact claims (queries). A false alarm is an English
question told it is not English; the bar is at most 1% on every set. The non-English questions
are BBC-style questions written in each language (below), to show the notice fires.
Writes benchmarks/results/language.json.
"""

from __future__ import annotations

import json
import time

from benchmarks.common import ROOT, data_path, parser, save_result

FOREIGN = {
    "french": [
        "Combien d'avions Ryanair achète-t-il à Boeing ?",
        "Qui a gagné les élections au Royaume-Uni ?",
        "Quelle est la capitale de la France ?",
        "Pourquoi le prix du pétrole a-t-il augmenté cette année ?",
        "Que dit le rapport sur le chômage en Europe ?",
        "Quand le nouveau film sortira-t-il dans les cinémas ?",
        "Quel joueur a marqué le but de la victoire ?",
        "Combien de personnes utilisent internet à haut débit ?",
    ],
    "german": [
        "Wie viele Flugzeuge kauft Ryanair von Boeing?",
        "Wer hat die Wahl in Großbritannien gewonnen?",
        "Wie hoch ist die Arbeitslosigkeit in Deutschland?",
        "Warum ist der Ölpreis in diesem Jahr gestiegen?",
        "Was hat Blair über die Wahl gesagt?",
        "Wann kommt der neue Film in die Kinos?",
        "Welcher Spieler hat das Siegtor geschossen?",
        "Wie viele Menschen nutzen schnelles Internet?",
    ],
    "spanish": [
        "¿Cuántos aviones compra Ryanair a Boeing?",
        "¿Quién ganó las elecciones en el Reino Unido?",
        "¿Cuál es el precio del petróleo?",
        "¿Por qué subió el precio del petróleo este año?",
        "¿Qué dijo Blair sobre las elecciones?",
        "¿Cuándo se estrena la nueva película en los cines?",
        "¿Qué jugador marcó el gol de la victoria?",
        "¿Cuántas personas usan internet de banda ancha?",
    ],
}


def english_sets(args) -> dict[str, list[str]]:
    sets: dict[str, list[str]] = {}
    for path in sorted([*ROOT.glob("examples/*.jsonl"), *ROOT.glob("benchmarks/questions/*.jsonl")]):
        sets[str(path.relative_to(ROOT))] = [json.loads(line)["question"]
                                             for line in path.open(encoding="utf-8") if line.strip()]
    squad = json.loads(data_path(args, "squad-v2.0-dev-half", "dev-v2.0.json", what="SQuAD")
                       .read_text(encoding="utf-8"))
    sets["squad-v2.0-dev-half"] = [q["question"] for a in squad["data"]
                                   for p in a["paragraphs"] for q in p["qas"]]
    scifact = data_path(args, "scifact", "beir", "queries.jsonl", what="SciFact")
    sets["scifact-claims"] = [json.loads(line)["text"]
                              for line in scifact.open(encoding="utf-8") if line.strip()]
    return sets


def main() -> None:
    args = parser(description=__doc__).parse_args()
    from assistant.answer import language

    result: dict = {"rule": {"min_words": language.MIN_WORDS,
                             "english_below": language.ENGLISH_BELOW,
                             "non_latin_share": language.NON_LATIN_SHARE},
                    "english": {}, "foreign": {}}
    t0 = time.perf_counter()
    total = alarms = 0
    for name, questions in english_sets(args).items():
        flagged = [(q, lang) for q in questions if (lang := language.detect(q))]
        total, alarms = total + len(questions), alarms + len(flagged)
        result["english"][name] = {"questions": len(questions), "false_alarms": len(flagged),
                                   "rate_pct": round(100 * len(flagged) / max(1, len(questions)), 3),
                                   "examples": flagged[:10]}
        print(f"{name}: {len(flagged)} of {len(questions)} English questions flagged")
    result["english_total"] = {"questions": total, "false_alarms": alarms,
                               "rate_pct": round(100 * alarms / max(1, total), 3)}
    for lang, questions in FOREIGN.items():
        got = [language.detect(q) for q in questions]
        result["foreign"][lang] = {"questions": len(questions),
                                   "noticed": sum(1 for g in got if g),
                                   "missed": [q for q, g in zip(questions, got) if not g]}
        print(f"{lang}: {result['foreign'][lang]['noticed']} of {len(questions)} noticed")
    result["seconds"] = round(time.perf_counter() - t0, 1)
    print(f"written {save_result('language', result)}")


if __name__ == "__main__":
    main()
