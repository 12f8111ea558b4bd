"""The Isabelle proof gate: text rules on tokens, then a clean session build of the gate's own theory.

Text rules (`lint_isabelle`), on outer-syntax tokens (a word inside a comment, a cartouche comment
or an inner-syntax string is neither code nor a reason to refuse): no `sorry`/`oops`, no
`axiomatization`/`axioms`, no ML or setup escape hatches (`ML`, `ML_file`, `setup`, `oracle`,
`method_setup`, ...), no `quick_and_dirty` anywhere, no syntax changes (`notation`, `syntax`,
`translations`, `hide_const`, bundles, ...), the theory imports exactly the task's, the file starts
with the task's header unchanged, the theorem's statement is the task's token for token, and no
name the statement mentions is declared again by the file.

The build (`IsabelleBatch`): the gate writes ROOT (session `Labgate_Check` on HOL, with
quick_and_dirty and documents off) and `Check.thy`: the task's header, the candidate's body, then
the task's statement restated as `labgate_check_<suffix>` and proved by the candidate's theorem,
then an ML check (the gate's own, not the candidate's) that the restated theorem depends on no
oracle (`Thm_Deps.all_oracles`). `isabelle build -c` builds it from scratch; any error refuses.
"""

from __future__ import annotations

import re
import secrets
import time

from tools.proofs import (
    IsabelleBatch,
    ProofProblem,
    Token,
    UnterminatedSourceError,
    code_tokens,
    isabelle_imports,
    isabelle_statement_end,
    isabelle_tokens,
    token_text,
)
from verifiers.proofs._foreign_verdict import ForeignVerdict

SESSION = "Labgate_Check"
FORBIDDEN_COMMANDS = {
    "sorry": "uses sorry",
    "oops": "abandons a proof with oops",
    "axiomatization": "declares axioms (axiomatization)",
    "axioms": "declares axioms",
    "oracle": "declares an oracle",
    "quick_and_dirty": "mentions quick_and_dirty",
    "skip_proof": "skips a proof",
    "ML": "runs ML code",
    "ML_file": "runs ML code",
    "ML_val": "runs ML code",
    "ML_command": "runs ML code",
    "ML_prf": "runs ML code",
    "ML_export": "runs ML code",
    "SML_file": "runs ML code",
    "SML_import": "runs ML code",
    "SML_export": "runs ML code",
    "setup": "runs ML setup code",
    "local_setup": "runs ML setup code",
    "declaration": "runs ML declaration code",
    "syntax_declaration": "runs ML declaration code",
    "method_setup": "defines a proof method in ML",
    "attribute_setup": "defines an attribute in ML",
    "simproc_setup": "defines a simproc in ML",
    "parse_translation": "changes parsing in ML",
    "print_translation": "changes printing in ML",
    "typed_print_translation": "changes printing in ML",
    "parse_ast_translation": "changes parsing in ML",
    "print_ast_translation": "changes printing in ML",
    "notation": "changes notation",
    "no_notation": "changes notation",
    "type_notation": "changes notation",
    "no_type_notation": "changes notation",
    "syntax": "changes syntax",
    "no_syntax": "changes syntax",
    "translations": "changes syntax",
    "no_translations": "changes syntax",
    "hide_const": "hides constants",
    "hide_type": "hides types",
    "hide_fact": "hides facts",
    "hide_class": "hides classes",
    "bundle": "declares a bundle",
    "unbundle": "opens a bundle",
    "open_bundle": "opens a bundle",
    "adhoc_overloading": "changes overloading",
    "no_adhoc_overloading": "changes overloading",
    "theory": "opens another theory",
    "tactic": "runs an ML tactic (the `tactic` method)",
    "raw_tactic": "runs an ML tactic (the `raw_tactic` method)",
}
DECLARING = (
    "definition",
    "abbreviation",
    "fun",
    "function",
    "primrec",
    "consts",
    "datatype",
    "codatatype",
    "type_synonym",
    "typedef",
    "record",
    "inductive",
    "coinductive",
    "inductive_set",
    "locale",
    "class",
    "theorem",
    "lemma",
)


def _imports_and_body_start(tokens: list[Token]) -> tuple[list[str], int] | None:
    words = [token.text for token in tokens]
    if len(words) < 3 or words[0] != "theory" or "begin" not in words:
        return None
    begin = words.index("begin")
    imports_at = words.index("imports") if "imports" in words[:begin] else begin
    return [word.strip('"') for word in words[imports_at + 1 : begin]], begin + 1


def lint_isabelle(problem: ProofProblem, source: str) -> tuple[list[str], str]:
    """Why the theory is refused before any build (empty when it passes), and its body (after the
    task's header, before the final `end`)."""
    try:
        tokens = code_tokens(isabelle_tokens(source))
        header_tokens = code_tokens(isabelle_tokens(problem.header))
    except UnterminatedSourceError as error:
        return [f"the file cannot be read as an Isabelle theory: {error}"], ""
    head = _imports_and_body_start(tokens)
    if head is None:
        return ["the file is not a theory (`theory NAME imports ... begin ... end`)"], ""
    imports, _ = head
    wanted = isabelle_imports(problem.header)
    if sorted(imports) != sorted(wanted):
        return [
            f"the theory imports {', '.join(imports) or 'nothing'}; the task's header imports {', '.join(wanted)}"
        ], ""
    # The header after `theory NAME`: the theory's name may differ (it follows the file name).
    if [t.text for t in tokens[2 : len(header_tokens)]] != [t.text for t in header_tokens[2:]]:
        return ["the file does not start with the task's header (imports and definitions) unchanged"], ""
    if not tokens or tokens[-1].text != "end":
        return ["the theory does not end with `end`"], ""
    body_tokens = tokens[len(header_tokens) : -1]
    reasons = []
    for token in body_tokens:
        if token.kind == "ident" and token.text in FORBIDDEN_COMMANDS:
            reasons.append(f"the theory {FORBIDDEN_COMMANDS[token.text]} (`{token.text}`)")
    reasons = list(dict.fromkeys(reasons))
    if reasons:
        return reasons, ""
    body = source[body_tokens[0].start : tokens[-1].start] if body_tokens else ""
    stated = _statement_of(body_tokens, problem.name)
    if stated is None:
        return [f"the theory has no theorem {problem.name}"], ""
    # theorem, lemma, corollary and proposition are the same; everything from the name on must be the task's.
    if token_text(stated[1:]) != token_text(code_tokens(isabelle_tokens(problem.statement))[1:]):
        return [f"the statement of {problem.name} is not the task's (changed or weakened)"], ""
    mentioned = set(re.findall(r"[A-Za-z][A-Za-z0-9_']*", problem.proposition()))
    for index, token in enumerate(body_tokens[:-1]):
        if token.text in DECLARING and token.kind == "ident":
            name = body_tokens[index + 1].text.strip('"')
            if name in mentioned or (name == problem.name and body_tokens[index] is not stated[0]):
                reasons.append(f"the theory declares {name} again, a name the task's statement uses")
    if reasons:
        return list(dict.fromkeys(reasons)), ""
    return [], body


def _statement_of(tokens: list[Token], name: str) -> list[Token] | None:
    for index, token in enumerate(tokens[:-1]):
        keyword = token.kind == "ident" and token.text in ("theorem", "lemma", "corollary", "proposition")
        if keyword and tokens[index + 1].text == name:
            return tokens[index : isabelle_statement_end(tokens, index)]
    return None


def _sessions(imports: list[str]) -> list[str]:
    """Sessions a qualified import (`HOL-Library.Multiset`) needs listed in ROOT."""
    return sorted({name.split(".")[0] for name in imports if "." in name and name.split(".")[0] != "HOL"})


def build_isabelle_check(problem: ProofProblem, body: str, suffix: str | None = None) -> tuple[str, str, str]:
    """ROOT, Check.thy and the suffix of the restated theorem."""
    suffix = suffix or secrets.token_hex(4)
    imports = isabelle_imports(problem.header)
    sessions = _sessions(imports)
    listed = " ".join(f'"{name}"' for name in sessions)
    root = (
        f"session {SESSION} = HOL +\n  options [quick_and_dirty = false, document = false]\n"
        + (f"  sessions {listed}\n" if sessions else "")
        + "  theories Check\n"
    )
    tokens = code_tokens(isabelle_tokens(problem.header))
    begin = next(index for index, token in enumerate(tokens) if token.text == "begin")
    definitions = problem.header[tokens[begin].end :].strip()
    quoted = " ".join(f'"{name}"' for name in imports)
    restated = problem.proposition()
    method = (
        f"using assms by (rule {problem.name})"
        if re.search(r"\bassumes\b", restated)
        else (f"by (fact {problem.name})")
    )
    theory = (
        f"theory Check\n  imports {quoted}\nbegin\n\n{definitions}\n\n{body.strip()}\n\n"
        f"theorem labgate_check_{suffix}: {restated}\n  {method}\n\n"
        f"ML_val \\<open>\n  if null (Thm_Deps.all_oracles [@{{thm labgate_check_{suffix}}}]) then ()\n"
        f'  else error "labgate: the proof of the task\'s statement depends on an oracle"\n\\<close>\n\nend\n'
    )
    return root, theory, suffix


def check_isabelle_proof(
    problem: ProofProblem, source: str, batch: IsabelleBatch, *, timeout: float = 600.0
) -> ForeignVerdict:
    """Lint, then the clean build of the gate's session (first refusal wins)."""
    started = time.monotonic()
    reasons, body = lint_isabelle(problem, source)
    if reasons:
        return ForeignVerdict("reject", reasons, seconds=time.monotonic() - started)
    root, theory, suffix = build_isabelle_check(problem, body)
    built = batch.build(root, {"Check": theory}, SESSION, timeout)
    verdict = ForeignVerdict("reject", [], check_source=theory)
    if not built.ok:
        error = built.first_error
        message = error.message if error is not None else built.summary()
        message = message.replace(f"labgate_check_{suffix}", "the task's statement")
        verdict.reasons.append(f"the clean Isabelle build (quick_and_dirty off) fails: {message}")
    verdict.decision = "reject" if verdict.reasons else "accept"
    verdict.seconds = time.monotonic() - started
    return verdict
