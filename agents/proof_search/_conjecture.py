"""Conjecture correction: a language model drafts proofs and revises them from the prover's error.

The model sees the statement (with its header), the failing proof, the failing step, Coq's error
and the goal at the failure, and answers with a whole revised proof. It also writes fresh drafts,
which the search asks for at the start and after every `restart_every` failed revisions. Any
object implementing `agents.llm.LLM` works; nothing here knows which endpoint is behind it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.llm import LLM, LLMBudgetExceededError, LLMError, Message
from agents.proof_search._script import ProofScript, script_from_text
from tools.proofs import ProofProblem

SYSTEM_PROMPT = (
    "You write proofs for Coq 8.16 (standard library, Coquelicot, CoqHammer's sauto/hauto/hammer, "
    "and the micromega tactics lia, nia, lra, nra, psatz). Never change the theorem statement; never use "
    "admit, Admitted, Axiom or any new assumption. Answer with one ```coq code block holding the proof of "
    "the theorem only, from `Proof.` to `Qed.`."
)

PROMPTS = {
    "coq": (SYSTEM_PROMPT, "coq", "Coq"),
    "lean4": (
        "You write proofs in Lean 4 with Mathlib (tactics such as omega, linarith, nlinarith, norm_num, simp, "
        "aesop, decide, positivity, ring, field_simp). Never change the theorem statement; never use sorry, "
        "admit, native_decide, axiom, set_option or new imports. Answer with one ```lean code block holding the "
        "theorem with its proof: `theorem NAME ... := by` followed by the tactics.",
        "lean",
        "Lean",
    ),
    "isabelle": (
        "You write proofs in Isabelle/HOL (methods such as simp, auto, arith, presburger, linarith, blast, "
        "metis, smt; Isar proofs welcome). Never change the theorem statement; never use sorry, oops, "
        "axiomatization or ML. Answer with one ```isabelle code block holding the theorem statement followed "
        "by its proof.",
        "isabelle",
        "Isabelle",
    ),
}
"""Per prover: the system prompt, the code fence's language and the prover's name in messages."""


_FORBIDDEN = {
    "coq": re.compile(
        r"^\s*(Axiom|Axioms|Parameter|Parameters|Conjecture|Hypothesis|Hypotheses|Variable|Variables|Admitted|"
        r"Abort|Unset|Set|Local|Global|Declare|Load|Require|Extract)\b|\b(admit|give_up)\b"
    ),
    "lean4": re.compile(r"\b(sorry|admit|native_decide|axiom|set_option|import|unsafe|implemented_by|extern|opaque)\b"),
    "isabelle": re.compile(r"\b(sorry|oops|axiomatization|ML|ML_val|ML_file|ML_command|declare|setup)\b"),
}
"""Words a proof never needs that would add an assumption, skip a check or leave the proof: a reply
using one is refused here, before any prover run is spent on it (the gate would reject it anyway)."""


def forbidden_words(script: ProofScript, prover: str) -> list[str]:
    """The forbidden words in a model's proof steps (empty when none)."""
    pattern = _FORBIDDEN.get(prover)
    if pattern is None:
        return []
    return sorted(
        {word for step in script.steps for match in pattern.finditer(step) for word in match.groups() if word}
    )


@dataclass(frozen=True)
class Failure:
    """What went wrong with a proof attempt, as shown to the model."""

    script: ProofScript
    step: str
    error: str
    goal: str


class ConjectureCorrector:
    """Drafts and revises proofs with an LLM; returns None when the model gives nothing usable."""

    def __init__(self, llm: LLM, problem: ProofProblem, *, temperature: float = 0.7, max_tokens: int = 2048) -> None:
        self.llm = llm
        self.problem = problem
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.calls = 0
        self.exhausted = False
        self.last_error = ""

    def _statement(self) -> str:
        return self.problem.theorem_file("").strip()

    def draft(self, seed: int) -> ProofScript | None:
        """A fresh proof draft (sampled, so repeated calls differ)."""
        system, fence, name = PROMPTS[self.problem.prover]
        user = (
            f"Prove this theorem.\n\n```{fence}\n{self._statement()}\n```\n\n"
            f"Think about the mathematics first, then give the {name} proof."
        )
        return self._ask([Message("system", system), Message("user", user)], seed, origin="llm:draft")

    def revise(self, failure: Failure, seed: int) -> ProofScript | None:
        """A revised proof, given the failing one, its failing step, the error and the goal there."""
        system, fence, name = PROMPTS[self.problem.prover]
        failing = failure.script.text() if self.problem.prover == "coq" else failure.script.render(self.problem).source
        user = (
            f"Theorem:\n```{fence}\n{self._statement()}\n```\n\n"
            f"This proof fails:\n```{fence}\n{failing}```\n\n"
            f"The failing step is `{failure.step}`. {name} says:\n{failure.error}\n\n"
            f"The goal at that step is:\n```\n{failure.goal or '(not available)'}\n```\n\n"
            "Give a corrected proof of the whole theorem."
        )
        return self._ask([Message("system", system), Message("user", user)], seed, origin="llm:revision")

    def _ask(self, messages: list[Message], seed: int, origin: str) -> ProofScript | None:
        if self.exhausted:
            return None
        self.calls += 1
        self.last_error = ""
        try:
            completion = self.llm.complete(
                messages, temperature=self.temperature, max_tokens=self.max_tokens, seed=seed
            )
        except LLMBudgetExceededError as error:
            self.exhausted = True
            self.last_error = str(error)
            return None
        except LLMError as error:
            self.last_error = str(error)
            return None
        script = script_from_text(completion.text, self.problem, origin=origin)
        if script is None:
            self.last_error = "no usable proof in the reply"
            return None
        words = forbidden_words(script, self.problem.prover)
        if words:
            self.last_error = f"the reply's proof uses {', '.join(words)}, which no accepted proof may"
            return None
        return script
