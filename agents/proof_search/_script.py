"""A proof script: the steps between `Proof.` and `Qed.`, and the file it makes with its problem.

Steps are sentences (tactics, with bullets and braces as steps of their own) so that a failing one
can be replaced, and a hole (`HOLE`) marks a place that tool correction must fill before the
script is checked. Rendering keeps each step's span, so a prover's error maps back to a step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tools.proofs import ProofProblem, Sentence, UnterminatedSourceError, offset_of, split_sentences

HOLE = "?"
AUTOMATION_IMPORTS = "From Hammer Require Import Tactics Hammer.\nRequire Import Lia Lra Psatz."
SINGLE_SENTENCE = re.compile(r"(?![-+*{}]|all:)[^.]*(?:\.(?=\S)[^.]*)*\.")
"""One tactic sentence (dots only inside names such as `PeanoNat.Nat.add_comm`), not a bullet or selector."""
_FENCE = re.compile(r"```(?:coq|rocq|Coq)?\s*\n(.*?)```", re.DOTALL)
_ANY_FENCE = re.compile(r"```[A-Za-z0-9]*\s*\n(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class RenderedScript:
    """A whole source file and the character span of each step in it."""

    source: str
    spans: tuple[tuple[int, int], ...]
    qed_offset: int

    def step_at(self, line: int, column: int) -> int | None:
        """The index of the step at a 1-based line / 0-based column, or None outside the steps."""
        offset = offset_of(self.source, line, column)
        for index, (start, end) in enumerate(self.spans):
            if start <= offset < end:
                return index
        return None


@dataclass(frozen=True)
class ProofScript:
    """An ordered list of steps; immutable, so every edit makes a new script."""

    steps: tuple[str, ...] = ()
    origin: str = ""

    def hole(self) -> int | None:
        return next((i for i, step in enumerate(self.steps) if step == HOLE), None)

    def replace(self, index: int, *steps: str) -> ProofScript:
        return ProofScript((*self.steps[:index], *steps, *self.steps[index + 1 :]), self.origin)

    def insert(self, index: int, *steps: str) -> ProofScript:
        return ProofScript((*self.steps[:index], *steps, *self.steps[index:]), self.origin)

    def truncate(self, index: int) -> ProofScript:
        return ProofScript(self.steps[:index], self.origin)

    def text(self) -> str:
        """`Proof.` ... `Qed.` with one step per line, a bullet sharing the line of its step."""
        return self.render_body()[0]

    def render_body(self, base: int = 0) -> tuple[str, list[tuple[int, int]], int]:
        """The proof text, each step's span (offsets from `base`), and where `Qed.` starts."""
        parts = ["Proof.\n"]
        position = base + len(parts[0])
        spans: list[tuple[int, int]] = []
        line_open = False
        for step in self.steps:
            if not line_open:
                parts.append("  ")
                position += 2
                line_open = True
            spans.append((position, position + len(step)))
            parts.append(step)
            position += len(step)
            if is_bullet(step):
                parts.append(" ")
            else:
                parts.append("\n")
                line_open = False
            position += 1
        if line_open:
            parts.append("\n")
            position += 1
        parts.append("Qed.\n")
        return "".join(parts), spans, position

    def render(self, problem: ProofProblem, imports: str = AUTOMATION_IMPORTS) -> RenderedScript:
        if problem.prover != "coq":
            return self._render_lines(problem)
        prefix = problem.theorem_file("", imports=imports)
        body, spans, qed = self.render_body(len(prefix))
        return RenderedScript(prefix + body, tuple(spans), qed)

    def _render_lines(self, problem: ProofProblem) -> RenderedScript:
        """Lean 4 (`:= by` then one tactic a line) or Isabelle (one proof line each, then `end`);
        a step keeps its own extra indentation, so nested blocks survive."""
        head = problem.header.rstrip()
        prefix = (f"{head}\n\n" if head else "") + problem.statement.strip()
        prefix += " := by\n" if problem.prover == "lean4" else "\n"
        parts = [prefix]
        position = len(prefix)
        spans: list[tuple[int, int]] = []
        for step in self.steps:
            line = f"  {step}\n"
            spans.append((position + 2, position + 2 + len(step)))
            parts.append(line)
            position += len(line)
        qed = position
        if problem.prover == "isabelle":
            parts.append("\nend\n")
        return RenderedScript("".join(parts), tuple(spans), qed)

    def prefix_source(self, problem: ProofProblem, index: int, imports: str = AUTOMATION_IMPORTS) -> str:
        """The file up to (not including) step `index`, without `Qed.`: where probes are appended."""
        rendered = self.render(problem, imports)
        cut = rendered.spans[index][0] if index < len(rendered.spans) else rendered.qed_offset
        if problem.prover != "coq":
            return rendered.source[: rendered.source.rfind("\n", 0, cut) + 1]
        return rendered.source[:cut].rstrip() + "\n"


def _is_bullet(sentence: Sentence) -> bool:
    return sentence.kind in ("bullet", "brace")


def is_bullet(step: str) -> bool:
    """Whether a step is a bullet or a brace (it shares its line with the next step)."""
    return step in ("{", "}") or re.fullmatch(r"[-+*]+", step) is not None


def script_from_text(text: str, problem: ProofProblem, origin: str = "") -> ProofScript | None:
    """The proof steps in a model's answer or a user's file, or None when none can be found.

    Accepts a fenced code block or bare text; a whole file (header, statement, proof) or just the
    proof. Only the proof of `problem.name` is kept: from after its statement (or `Proof.`) up to
    `Qed.`/`Defined.`/`Admitted.`, or the end.
    """
    if problem.prover != "coq":
        return _lines_from_text(text, problem, origin)
    fenced = _FENCE.findall(text)
    candidates = [block for block in fenced if block.strip()]
    if not candidates and re.search(r"(^|\s)(Proof\.|Theorem|Lemma)", text):
        candidates = [text]
    for block in candidates:
        try:
            sentences = split_sentences(block)
        except UnterminatedSourceError:
            continue
        start = 0
        for index, sentence in enumerate(sentences):
            if sentence.kind == "sentence" and re.match(
                rf"(Theorem|Lemma|Example|Fact|Corollary|Proposition)\s+{re.escape(problem.name)}\b", sentence.code
            ):
                start = index + 1
        steps: list[str] = []
        for sentence in sentences[start:]:
            code = sentence.code
            if code in ("Proof.",) or code.startswith("Proof with") or code.startswith("Proof using"):
                continue
            if code in ("Qed.", "Defined.", "Admitted.", "Abort."):
                break
            if not _is_bullet(sentence) and sentence.first_word in (
                "Require",
                "From",
                "Import",
                "Open",
                "Theorem",
                "Lemma",
            ):
                continue
            steps.append(code)
        if steps:
            return ProofScript(tuple(steps), origin)
    return None


def _lines_from_text(text: str, problem: ProofProblem, origin: str) -> ProofScript | None:
    """Lean 4 / Isabelle: the proof lines after `theorem NAME ... := by` (Lean) or the statement
    (Isabelle), up to the theory's `end`; indentation beyond the proof's first line is kept."""
    blocks = [block for block in _ANY_FENCE.findall(text) if block.strip()] or [text]
    for block in blocks:
        lines = block.splitlines()
        start = 0
        for index, line in enumerate(lines):
            if re.match(rf"\s*(theorem|lemma)\s+{re.escape(problem.name)}\b", line):
                start = index
                while start < len(lines) and (
                    (problem.prover == "lean4" and not re.search(r":=\s*by\s*$", lines[start]))
                    or (problem.prover == "isabelle" and not lines[start].strip().endswith('"'))
                ):
                    start += 1
                start += 1
                break
        body = [line for line in lines[start:] if line.strip()]
        if problem.prover == "isabelle":
            body = [line for line in body if line.strip() != "end"]
        if problem.prover == "lean4" and body and body[0].strip().startswith(":= by"):
            body[0] = body[0].replace(":= by", "", 1)
        body = [line for line in body if line.strip()]
        if not body:
            continue
        base = min(len(line) - len(line.lstrip()) for line in body)
        return ProofScript(tuple(line[base:].rstrip() for line in body), origin)
    return None
