"""A local full-text index over passages: SQLite FTS5 with BM25 ranking, in memory."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable

from agents.planner._documents import Passage

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+")
STOPWORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "are",
        "was",
        "were",
        "been",
        "has",
        "have",
        "had",
        "not",
        "but",
        "its",
        "into",
        "than",
        "then",
        "them",
        "they",
        "their",
        "which",
        "while",
        "when",
        "where",
        "what",
        "who",
        "how",
        "all",
        "any",
        "can",
        "may",
        "will",
        "would",
        "should",
        "could",
        "also",
        "such",
        "these",
        "those",
        "there",
        "here",
        "our",
        "out",
        "per",
        "via",
        "use",
        "using",
        "used",
        "run",
        "runs",
        "one",
        "two",
        "three",
        "more",
        "most",
        "less",
        "some",
        "each",
        "other",
        "only",
        "over",
        "under",
        "about",
        "between",
        "both",
        "same",
        "very",
        "well",
        "does",
        "did",
        "within",
        "without",
        "against",
        "after",
        "before",
        "along",
    ]
)


def terms(text: str) -> list[str]:
    """Lower-case content words of at least three letters, in order, without stopwords."""
    return [w.lower() for w in _WORD.findall(text) if len(w) >= 3 and w.lower() not in STOPWORDS]


class PassageIndex:
    def __init__(self, passages: Iterable[Passage]) -> None:
        self.passages = list(passages)
        self._db = sqlite3.connect(":memory:")
        self._db.execute("CREATE VIRTUAL TABLE passages USING fts5(text, tokenize='porter unicode61')")
        self._db.executemany(
            "INSERT INTO passages(rowid, text) VALUES (?, ?)",
            [(row, passage.text) for row, passage in enumerate(self.passages, start=1)],
        )

    def search(self, query: str, limit: int = 8) -> list[tuple[Passage, float]]:
        """Passages matching any content word of `query`, best first, with a positive relevance score."""
        words = sorted(set(terms(query)))
        if not words:
            return []
        expression = " OR ".join(f'"{word}"' for word in words)
        rows = self._db.execute(
            "SELECT rowid, bm25(passages) FROM passages WHERE passages MATCH ? ORDER BY bm25(passages) LIMIT ?",
            (expression, limit),
        ).fetchall()
        # FTS5's bm25() is smaller for better matches; report it as a positive relevance.
        return [(self.passages[rowid - 1], -float(score)) for rowid, score in rows]
