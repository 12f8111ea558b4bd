"""The LLM proposer of model forms: C++ edits of the corrected Spalart-Allmaras model, compiled before
they are run, with the compiler's errors sent back (conjecture correction for code).

Each candidate is one reply: the model's whole C++ (an edit of the family's `SAcorrected.C`), values of
the family's run-time coefficients, and a physical rationale. The source is compiled in the sandbox
(`tools.cfd.models.build_model`, cached by hash, so the experiment reuses the library); a source that
does not compile goes back to the model with the diagnostics (file, line, message) a bounded number of
times. What still does not compile is dropped, and CMA-ES over the family fills the place, saying why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, Field

from agents.cfd_search._history import Observation
from agents.cfd_search._llm_base import LlmProposerBase, box, outcome, violations
from agents.cfd_search._model_tokens import foreign_tokens, translated
from agents.llm import LLMBudgetExceededError, LLMError, Message
from runs import LabgateError
from tools import SearchSpace
from tools.cfd.models import (
    MODEL_NAME,
    HeadersUnavailableError,
    ModelCompileError,
    build_model,
    describe_form,
    family_source,
    source_diff,
)

COMPILE_CORRECTIONS = 2
"""Times a source that does not compile is sent back with the compiler's errors."""
REQUIRED_MARKERS = (f'TypeName("{MODEL_NAME}")', f"makeRASModel({MODEL_NAME})")
MAX_REPLY_TOKENS = 6000
_INCLUDE = re.compile(r"(?:#|%:|\?\?=)\s*(?:include|include_next|import|embed)\b\s*(?:[<\"]([^>\"\n]*)[>\"])?")
_LEXEMES = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|/\*.*?(?:\*/|\Z)|//[^\n]*", re.DOTALL)
"""String and character literals (kept) and comments of either kind (blanked), whichever starts first: a word
in a comment (a "coordinate system") is not a call, and a `//` inside a string hides nothing after it."""
_FORBIDDEN = re.compile(
    r"\b(?:system|popen|execl|execlp|execle|execv|execve|execvp|fork|vfork|dlopen|asm|__asm__|incbin|"
    r"__has_include|__has_include_next|embed)\b"
)
"""What a turbulence model has no use for and a hostile source would: running programs, loading code,
and reading files outside the headers (`#include "/etc/passwd"` would put the file in the compiler's
errors, which go back to the model)."""


class ModelEdit(BaseModel):
    source: str = Field(max_length=60_000, description=f"the whole C++ of the {MODEL_NAME} model")
    values: dict[str, float] = Field(default_factory=dict, description="run-time coefficients of the family")
    rationale: str = Field(max_length=800, description="why this model form should lower the objective")


@dataclass(frozen=True)
class ModelProposal:
    values: dict[str, float]
    rationale: str
    source: str | None
    """The candidate's C++ (None: the built-in family)."""
    diff: str = ""


class LlmModelProposer(LlmProposerBase):
    name = "llm-model"
    default_corrections = COMPILE_CORRECTIONS

    def propose(
        self, space: SearchSpace, history: list[Observation], count: int, baseline: float | None
    ) -> list[tuple[dict[str, float], str]]:
        return [(item.values, item.rationale) for item in self.propose_models(space, history, count, baseline)]

    def propose_models(
        self, space: SearchSpace, history: list[Observation], count: int, baseline: float | None
    ) -> list[ModelProposal]:
        proposals: list[ModelProposal] = []
        notes: list[str] = []
        for _ in range(count):
            proposal, note = self._one(space, history, baseline)
            if proposal is None:
                notes.append(note)
                break
            proposals.append(proposal)
        missing = count - len(proposals)
        if missing > 0:
            why_not = notes[-1] if notes else "none proposed"
            for values, why in self.fallback.propose(space, history, missing, baseline):
                proposals.append(
                    ModelProposal(values, f"{why}: {describe_form(values)} (in place of an LLM model: {why_not})", None)
                )
        return proposals[:count]

    def _prompt(self, space: SearchSpace, history: list[Observation], baseline: float | None) -> str:
        tried = (
            "\n".join(
                f"- {describe_form(o.values)} -> {outcome(space, o.objective)} ({o.rationale[:160]})" for o in history
            )
            or "(none yet)"
        )
        return (
            f"{self.heading(space, baseline)}"
            f"The model is compiled from this C++ (OpenFOAM v1912, incompressible RAS):\n```cpp\n{family_source()}```\n"
            f"Run-time coefficients (SAcorrectedCoeffs):\n{box(space)}\nTried so far:\n{tried}\n"
            f"Propose one new model: edit the C++ (keep {REQUIRED_MARKERS[0]} and {REQUIRED_MARKERS[1]}), "
            'and reply as JSON {"source": "<the whole C++>", "values": {...}, "rationale": "..."}.\n'
            "What you add may use only numbers, arithmetic, local values you declare (const volScalarField "
            'name(...); const scalar c = ...; const dimensionedScalar s("s", dimless, ...)), the model\'s own '
            "quantities (this->chi(), this->fv1(chi), Stilda, this->y_, this->nu(), gradU, the coefficients) "
            "and OpenFOAM's field functions (exp, log, sqrt, pow, sqr, mag, magSqr, min, max, tanh, symm, "
            "skew, tr, fvc::grad): no includes, files, streams, new functions or pointers. A local value is "
            "used by its name (not this->name), after its declaration and inside the braces that declare it. "
            "Declare values only inside function bodies, assign only in a declaration (no =, +=, ... to an "
            "existing value, no '==': use pos() or neg() for conditions), and leave the model's other names "
            "(runTime_, mesh_, bound, solve, ...) where they are."
        )

    def _one(
        self, space: SearchSpace, history: list[Observation], baseline: float | None
    ) -> tuple[ModelProposal | None, str]:
        conversation = [
            Message("system", "You propose turbulence-model corrections as compilable OpenFOAM C++."),
            Message("user", self._prompt(space, history, baseline)),
        ]
        note = ""
        for _ in range(self.corrections + 1):
            try:
                edit = self.llm.structured(conversation, ModelEdit, max_tokens=MAX_REPLY_TOKENS, repair_attempts=1)
            except LLMBudgetExceededError:
                raise
            except LLMError as error:
                return None, f"the LLM gave no usable model ({error})"
            problems = self._check(space, edit)
            if not problems:
                try:
                    build_model(edit.source)
                except HeadersUnavailableError as error:
                    return None, f"headers unavailable: {error}"
                except ModelCompileError as error:
                    problems = [item.render() for item in error.diagnostics] or [error.summary]
                except LabgateError as error:
                    return None, f"the model could not be built ({error})"
            if not problems:
                values = {p.name: float(edit.values.get(p.name, p.default)) for p in space.parameters}
                diff = source_diff(edit.source)
                changed = sum(1 for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---"))
                rationale = f"LLM model edit ({changed} lines changed; {describe_form(values)}): {edit.rationale}"
                source = None if edit.source == family_source() else edit.source
                return ModelProposal(values, rationale, source, diff), ""
            note = f"the model did not compile or was out of bounds: {' | '.join(problems)}"[:400]
            conversation = self.sent_back(
                conversation,
                edit,
                problems,
                "This model was not run. The compiler (or the checks) said:\n"
                + "\n".join(problems[:20])
                + "\nFix it and reply with the whole corrected source as before.",
            )
        return None, note

    def _check(self, space: SearchSpace, edit: ModelEdit) -> list[str]:
        problems = [f"the source must keep {marker}" for marker in REQUIRED_MARKERS if marker not in edit.source]
        unsafe = unsafe_source(edit.source)
        foreign = [] if unsafe else foreign_tokens(edit.source, family_source())
        return problems + unsafe + foreign + violations(space, edit.values)


def unsafe_source(source: str) -> list[str]:
    """Why a model's C++ is refused before it reaches the compiler: an include by path, or a forbidden name."""
    # Neither line continuations (`\\ ` then a line end, `??/`), a lone CR ending a `//` comment early, nor
    # comments (`#/**/include`) may hide a directive from the check: the text is read as g++ reads it.
    joined = _LEXEMES.sub(lambda match: " " if match.group(0).startswith("/") else match.group(0), translated(source))
    problems = [
        f"#include {name!r}: include headers by name only (no absolute or parent paths, no macro)"
        for name in _INCLUDE.findall(joined)
        if not name or name.startswith(("/", "\\", "~")) or ".." in name or ":" in name
    ]
    if "##" in joined or "%:%:" in joined:
        problems.append("the source pastes tokens (##): a model needs no macro that builds names")
    problems += [
        f"the source uses {name!r}: a model may not run programs, load code or embed files"
        for name in sorted(set(_FORBIDDEN.findall(joined)))
    ]
    return problems[:10]
