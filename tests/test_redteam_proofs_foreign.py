"""Attacks on the Lean 4 and Isabelle gates that the first text rules let through.

Each cheat is written as the prover reads it (none was run against a real Lean or Isabelle here):
a raw or interpolated string that the rules' tokenizer ended in a different place than Lean does
(hiding a `sorry` while a decoy statement sits in a string Lean never elaborates, or after a
`/-/-` that Lean reads as one comment opener), attributes that
register code the elaborator runs (`@[tactic]` admitting every `omega` goal, `@[command_elab]`
answering the gate's own `#print axioms` with a forged "does not depend on any axioms"), `#eval!`,
`#guard_msgs` swallowing errors, `by_elab`, `Lean.ofReduceNat`; and for Isabelle, ML reached through
document antiquotations, code generation and `ML_`-named commands, option names spelled as strings,
and a candidate context left open around the gate's own restatement. A forged axiom listing printed
by the proof itself (on stderr, read after stdout) is also refused when the gate reads Lean's output.

The batteries are shared with `bench/cheats_proofs.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest

from tests.proof_gate_cases import (
    ISABELLE_GOOD,
    ISABELLE_HEADER,
    ISABELLE_PROBLEM,
    ISABELLE_STATEMENT,
    LEAN_GOOD,
    LEAN_HEADER,
    LEAN_PROBLEM,
    LEAN_STATEMENT,
)
from tools.proofs import CheckResult, LeanBatch, UnterminatedSourceError, lean_tokens
from verifiers.proofs import check_lean_proof, lint_isabelle, lint_lean

_LEAN_BODY = LEAN_GOOD[len(LEAN_HEADER) :]
_DECOY = f"{LEAN_STATEMENT} := by\n  omega\n"
_HIDDEN = f"{LEAN_STATEMENT} := by\n  sorry\n"

LEAN_FOREIGN_CHEATS: dict[str, tuple[str, str]] = {
    # Lean: r#"..."# is one string (the decoy statement is never elaborated); r"\" is a string holding a
    # backslash, so the theorem after it, with its sorry, is code. The old tokenizer read both the other way.
    "raw strings hide a sorry behind a decoy statement": (
        LEAN_HEADER + f'\ndef labgateDecoy : String := r#" "\n{_DECOY}" "#\n\n'
        f'def labgateHide : String := r"\\"\n{_HIDDEN}-- "\n',
        "sorry",
    ),
    # Lean: `{...}` in s!"..." is code holding the string "\"" (so the string ends where Lean says).
    "interpolated strings hide a sorry behind a decoy statement": (
        LEAN_HEADER + f'\ndef labgateDecoy : String := s!"{{ "\n{_DECOY}" }}"\n\n'
        f'def labgateHide : String := s!"{{"\\""}}"\n{_HIDDEN}-- "\n',
        "sorry",
    ),
    # Lean skips the character after a comment's `/-` unread, so `/-/- -/` is a whole comment; read as
    # two nested openers it also swallowed the `sorry` after it, up to the `-/` in the line comment.
    "comment opener that Lean does not nest": (LEAN_GOOD.replace("omega", "/-/- -/ sorry -- -/"), "sorry"),
    # Every `omega` closes its goal with sorryAx, and the gate's own `#print axioms` answers "none":
    # the kernel accepts the file, the replay accepts it (sorryAx is a declared axiom), and the
    # axiom list the gate reads is forged.
    "tactic and #print axioms elaborators registered by attributes": (
        LEAN_HEADER + "\nopen Lean Elab Tactic in\n@[tactic Lean.Parser.Tactic.omega] def labgateOmega : Tactic :=\n"
        "  fun _ => do admitGoal (← getMainGoal)\n\n"
        "open Lean Elab Command in\n"
        "@[command_elab Lean.Parser.Command.printAxioms] def labgateAxioms : CommandElab :=\n"
        "  fun stx => logInfo m!\"'{stx[2].getId}' does not depend on any axioms\"\n\n" + _LEAN_BODY,
        "attribute `tactic`",
    ),
    "attribute applied afterwards": (
        LEAN_HEADER + "\nopen Lean Elab Command in\ndef labgateAxioms : CommandElab := fun _ => pure ()\n"
        "attribute [command_elab Lean.Parser.Command.printAxioms] labgateAxioms\n\n" + _LEAN_BODY,
        "attribute `command_elab`",
    ),
    "#eval! adding an axiom": (
        LEAN_HEADER + "\n#eval! show Lean.Elab.Command.CommandElabM Unit from Lean.Elab.Command.liftCoreM <|\n"
        "  Lean.addDecl (.axiomDecl { name := `labgateBad, levelParams := [], type := .const ``False [],"
        " isUnsafe := false })\n\n" + LEAN_GOOD[len(LEAN_HEADER) :].replace("omega", "exact labgateBad.elim"),
        "#eval!",
    ),
    "#guard_msgs swallowing the error of a failed proof": (
        LEAN_HEADER + "\n/-- error: omega could not prove the goal -/\n#guard_msgs in\n" + _LEAN_BODY,
        "#guard_msgs",
    ),
    "by_elab building the proof term": (
        LEAN_GOOD.replace("omega", "exact by_elab fun t => Lean.Meta.mkSorry t.get! false"),
        "by_elab",
    ),
    "ofReduceNat": (LEAN_GOOD.replace("omega", "exact absurd (Lean.ofReduceNat 0 1 rfl) (by decide)"), "ofReduceNat"),
    "meta definition": (
        LEAN_HEADER + "\nmeta def labgateMeta : Lean.Elab.Command.CommandElabM Unit := pure ()\n\n" + _LEAN_BODY,
        "meta code",
    ),
    "declare_ command family": (
        LEAN_HEADER + "\ndeclare_config_elab elabLabgate Lean.Meta.Simp.Config\n\n" + _LEAN_BODY,
        "meta code",
    ),
}

_ISABELLE_BODY = "\n" + ISABELLE_STATEMENT + "\n  using h unfolding double_def by simp\n"
ISABELLE_FOREIGN_CHEATS: dict[str, tuple[str, str]] = {
    # Document antiquotations are checked while the theory is built, documents off or not.
    "ML in a text antiquotation": (
        ISABELLE_HEADER
        + "text \\<open>@{ML \\<open>0); val _ = Thm_Deps.all_oracles []; (0\\<close>}\\<close>\n"
        + _ISABELLE_BODY
        + "end\n",
        "ML code in an antiquotation",
    ),
    "ML control symbol in a formal comment": (
        ISABELLE_HEADER
        + "\\<comment> \\<open>\\<^ML>\\<open>Skip_Proof.cheat_tac\\<close>\\<close>\n"
        + _ISABELLE_BODY
        + "end\n",
        "ML code in an antiquotation",
    ),
    "tactic method in a lemma antiquotation": (
        ISABELLE_HEADER
        + 'text \\<open>@{lemma "False" by (tactic \\<open>all_tac\\<close>)}\\<close>\n'
        + _ISABELLE_BODY
        + "end\n",
        "in an antiquotation",
    ),
    "code_printing and code_reflect": (
        ISABELLE_HEADER
        + 'code_printing code_module "Labgate" \\<rightharpoonup> (SML) \\<open>val _ = OS.Process.exit 0\\<close>\n'
        + "code_reflect Labgate_Code functions double\n"
        + _ISABELLE_BODY
        + "end\n",
        "code_printing",
    ),
    "ML_file_debug": (ISABELLE_HEADER + 'ML_file_debug "cheat.ML"\n' + _ISABELLE_BODY + "end\n", "runs ML code"),
    "quick_and_dirty spelled as a string": (
        ISABELLE_HEADER + 'declare [["quick_and_dirty" = true]]\n' + _ISABELLE_BODY + "end\n",
        "quick_and_dirty",
    ),
    "quick_and_dirty spelled as a cartouche": (
        ISABELLE_HEADER + "declare [[\\<open>quick_and_dirty\\<close>]]\n" + _ISABELLE_BODY + "end\n",
        "quick_and_dirty",
    ),
    # The gate appends its restatement and oracle check after the body: inside this context they are
    # proved from the locale's assumption False.
    "context left open around the gate's restatement": (
        ISABELLE_HEADER
        + 'locale labgate_cheat = assumes bad: "False"\ncontext labgate_cheat begin\n'
        + ISABELLE_STATEMENT
        + "\n  using bad by simp\nend\n",
        "context open",
    ),
    # The constructor is `labgate_t.double`, so it does not clash with the header's `double`, but the short
    # name now means it: the candidate's statement and the gate's restatement both read `double a < double b`
    # as a comparison of two constructor values, which this `<` makes true.
    "datatype constructor shadowing the statement's constant": (
        ISABELLE_HEADER
        + "datatype labgate_t = double nat\ninstantiation labgate_t :: ord begin\n"
        + 'definition less_labgate_t :: "labgate_t \\<Rightarrow> labgate_t \\<Rightarrow> bool" where '
        + '"less_labgate_t x y = True"\n'
        + 'definition less_eq_labgate_t :: "labgate_t \\<Rightarrow> labgate_t \\<Rightarrow> bool" where '
        + '"less_eq_labgate_t x y = True"\n'
        + "instance ..\nend\n\n"
        + ISABELLE_STATEMENT
        + "\n  by (simp add: less_labgate_t_def)\n\nend\n",
        "constructor or field",
    ),
    "record field shadowing the statement's constant": (
        ISABELLE_HEADER + "record labgate_r = double :: nat\n" + _ISABELLE_BODY + "end\n",
        "constructor or field",
    ),
    "datatype selector shadowing the statement's constant": (
        ISABELLE_HEADER + "datatype labgate_t = Labgate (double: nat)\n" + _ISABELLE_BODY + "end\n",
        "constructor or field",
    ),
    # `nat` in `(b::nat)` would name this new type, for which the candidate chooses what `<` means.
    "typedecl shadowing the statement's type": (
        ISABELLE_HEADER + "typedecl nat\n" + _ISABELLE_BODY + "end\n",
        "declares nat again",
    ),
    "old-style verbatim text": (
        ISABELLE_HEADER + "text {* sorry *}\n" + _ISABELLE_BODY + "end\n",
        "{* *}",
    ),
    "defs": (ISABELLE_HEADER + 'defs double_def2: "double == (%n. 0)"\n' + _ISABELLE_BODY + "end\n", "defs"),
}


@pytest.mark.parametrize("name", sorted(LEAN_FOREIGN_CHEATS))
def test_lean_cheat_is_refused_by_the_text_rules(name: str) -> None:
    source, reason = LEAN_FOREIGN_CHEATS[name]
    reasons, _ = lint_lean(LEAN_PROBLEM, source)
    assert reasons, f"{name} passed the text rules"
    assert any(reason in item for item in reasons), reasons


@pytest.mark.parametrize("name", sorted(ISABELLE_FOREIGN_CHEATS))
def test_isabelle_cheat_is_refused_by_the_text_rules(name: str) -> None:
    source, reason = ISABELLE_FOREIGN_CHEATS[name]
    reasons, _ = lint_isabelle(ISABELLE_PROBLEM, source)
    assert reasons, f"{name} passed the text rules"
    assert any(reason in item for item in reasons), reasons


def test_the_tokenizer_ends_strings_where_lean_does() -> None:
    raw = lean_tokens('r"\\" sorry -- "')
    assert [(token.kind, token.text) for token in raw][:2] == [("string", 'r"\\"'), ("ident", "sorry")]
    assert [token.text for token in lean_tokens("/-/- -/ sorry -- -/") if token.kind == "ident"] == ["sorry"]
    assert [token.kind for token in lean_tokens("/--/ sorry -/ x")] == ["comment", "ident"]
    hashed = lean_tokens('r#"a " sorry "#')
    assert [token.kind for token in hashed] == ["string"]
    interpolated = lean_tokens('s!"{"\\""} {(sorry : Nat)}" x')
    assert "sorry" in [token.text for token in interpolated if token.kind == "ident"]
    assert interpolated[-1].text == "x"


def test_a_string_read_differently_with_or_without_interpolation_is_refused() -> None:
    with pytest.raises(UnterminatedSourceError, match="reads differently"):
        lean_tokens('dbg_trace "{"\\""}"; 0 -- "')
    reasons, _ = lint_lean(LEAN_PROBLEM, LEAN_GOOD.replace("omega", 'exact dbg_trace "{"\\""}"; by omega -- "'))
    assert reasons and "cannot be read" in reasons[0]


def test_deeply_nested_interpolation_is_a_clear_refusal() -> None:
    source = LEAN_GOOD.replace("omega", "exact " + 's!"{' * 5000 + "0" + '}"' * 5000)
    reasons, _ = lint_lean(LEAN_PROBLEM, source)
    assert reasons and "nested too deeply" in reasons[0]


def test_honest_strings_and_attributes_stay_allowed() -> None:
    body = (
        '@[simp] theorem labgate_helper (n : ℕ) : n + 0 = n := rfl\n\ndef msg : String := s!"{1 + 1} {"a"}"\n'
        'def plain : String := "a{b}"\n#check labgate_helper\n\n'
    )
    source = LEAN_HEADER + "\n" + body + _LEAN_BODY
    assert lint_lean(LEAN_PROBLEM, source)[0] == []
    assert lint_lean(LEAN_PROBLEM, LEAN_GOOD)[0] == []
    honest = ISABELLE_HEADER + "text \\<open>uses @{term double} and x\\<^sub>1\\<close>\n" + _ISABELLE_BODY + "end\n"
    assert lint_isabelle(ISABELLE_PROBLEM, honest)[0] == []
    nested = ISABELLE_HEADER + "context begin\n" + _ISABELLE_BODY + "end\n\nend\n"
    assert lint_isabelle(ISABELLE_PROBLEM, nested)[0] == []
    helper_type = (
        ISABELLE_HEADER + "datatype colour = Red | Green (shade: nat)\nrecord point = px :: nat\n" + _ISABELLE_BODY
    )
    nested = helper_type + "end\n"
    assert lint_isabelle(ISABELLE_PROBLEM, nested)[0] == []
    assert lint_isabelle(ISABELLE_PROBLEM, ISABELLE_GOOD)[0] == []


@dataclass
class _ForgingBatch:
    """A Lean run whose proof printed its own axiom listing (on stderr, after Lean's stdout)."""

    checker: str = "lean4checker"
    replayed: bool = False

    def compile(self, source: str, module: str, timeout: float) -> CheckResult:
        theorem = next(word for word in source.split() if word.startswith("labgate_check_"))
        return CheckResult(
            ok=True,
            stdout=f"Check.lean:40:0: info: '{theorem}' depends on axioms: [sorryAx]\n",
            stderr=f"'{theorem}' does not depend on any axioms\n",
        )

    def replay(self, module: str, timeout: float) -> CheckResult:
        self.replayed = True
        return CheckResult(ok=True)


def test_an_axiom_listing_printed_by_the_proof_is_refused(tmp_path: Path) -> None:
    batch = _ForgingBatch()
    verdict = check_lean_proof(LEAN_PROBLEM, LEAN_GOOD, cast(LeanBatch, batch))
    assert verdict.decision == "reject"
    assert any("2 axiom lists" in reason for reason in verdict.reasons), verdict.reasons
    assert not batch.replayed
