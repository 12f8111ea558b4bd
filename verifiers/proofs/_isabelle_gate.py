"""The Isabelle proof gate: text rules on tokens, then a clean session build of the gate's own theory.

Text rules (`lint_isabelle`), on outer-syntax tokens (a word inside a comment, a cartouche comment
or an inner-syntax string is neither code nor a reason to refuse): no `sorry`/`oops`, no
`axiomatization`/`axioms`, no ML or setup escape hatches (`ML`, `ML_file`, `setup`, `oracle`,
`method_setup`, ...), no `quick_and_dirty` anywhere, no syntax changes (`notation`, `syntax`,
`translations`, `hide_const`, bundles, ...), the theory imports exactly the task's, the file starts
with the task's header unchanged, the theorem's statement is the task's token for token, and no
name the statement mentions is declared again by the file (a datatype constructor or record field
included). Also refused: ML reached from antiquotations in text, formal comments and strings
(`@{ML ...}`, `\\<^ML>`, a `tactic` method inside `@{lemma}`), code generation with target text
(`code_printing`, `code_reflect`), any `ML_`/`SML_` name, forbidden words spelled as a string or a
cartouche (`[["quick_and_dirty"]]`), old-style `{* *}` text, and a body whose `begin`s and `end`s
do not pair off (the gate's restatement would land inside the candidate's context).

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
    ISABELLE_PROOF_STARTS,
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
    "code_printing": "maps constants to target-language text (ML run by code_reflect or eval)",
    "code_reflect": "compiles generated code into the ML environment",
    "code_module": "adds target-language text (ML) to generated code",
    "code_const": "maps constants to target-language text",
    "code_type": "maps types to target-language text",
    "code_class": "maps classes to target-language text",
    "code_instance": "maps instances to target-language text",
    "code_include": "adds target-language text (ML) to generated code",
    "generate_file": "generates files (compiled by ML)",
    "export_generated_files": "exports generated files",
    "compile_generated_files": "compiles generated files with ML",
    "external_file": "reads an external file",
    "defs": "declares unchecked definitions (defs)",
    "arities": "declares type arities axiomatically",
    "classrel": "declares class relations axiomatically",
    "judgment": "declares an object-logic judgment",
    "unchecked": "asks for unchecked definitions",
    "overloading": "declares constants through overloading (the gate cannot tell them from the statement's)",
    "alias": "gives a constant another name (the gate cannot tell it from the statement's)",
    "type_alias": "gives a type another name (the gate cannot tell it from the statement's)",
    "global_interpretation": "declares constants through a locale interpretation",
    "interpretation": "declares constants and rewrites through a locale interpretation",
    "sublocale": "declares constants and rewrites through a locale interpretation",
}
ML_PREFIXES = ("ML_", "SML_")
"""Every command, method, option and antiquotation named ML_... or SML_... runs or reads ML (the list
grows with Isabelle releases: ML_file_debug, SML_file_no_debug, ...)."""
FORMATTING_ANTIQUOTATIONS = frozenset(
    [
        "sub",
        "sup",
        "bsub",
        "esub",
        "bsup",
        "esup",
        "bold",
        "emph",
        "item",
        "enum",
        "descr",
        "footnote",
        "noindent",
        "smallskip",
        "medskip",
        "bigskip",
        "here",
        "marker",
        "open",
        "close",
        "const",
        "typ",
        "term",
        "prop",
    ]
)
"""`\\<^name>` control symbols that format text or name logical entities (no code runs in them)."""
_ANTIQUOTATION = re.compile(r"@\{|\\<\^(?P<name>[A-Za-z_][A-Za-z0-9_]*)>")
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
    "typedecl",
    "lift_definition",
    "quotient_type",
    "quotient_definition",
    "primcorec",
    "corec",
    "corecursive",
)


def _imports_and_body_start(tokens: list[Token]) -> tuple[list[str], int] | None:
    words = [token.text for token in tokens]
    if len(words) < 3 or words[0] != "theory" or "begin" not in words:
        return None
    begin = words.index("begin")
    imports_at = words.index("imports") if "imports" in words[:begin] else begin
    return [word.strip('"') for word in words[imports_at + 1 : begin]], begin + 1


def _word_reason(word: str) -> str | None:
    if word in FORBIDDEN_COMMANDS:
        return FORBIDDEN_COMMANDS[word]
    if word in ("ML", "SML") or word.startswith(ML_PREFIXES):
        return "runs ML code"
    return None


def _unquoted(token: Token) -> str:
    """A string's or cartouche's content (the name `[["quick_and_dirty"]]` gives as a string)."""
    text = token.text
    for opener, closer in (('"', '"'), ("`", "`"), ("‹", "›"), ("\\<open>", "\\<close>"), ("{*", "*}")):
        if text.startswith(opener) and text.endswith(closer) and len(text) >= len(opener) + len(closer):
            return text[len(opener) : len(text) - len(closer)].strip()
    return text


def _forbidden(tokens: list[Token]) -> list[str]:
    """Forbidden commands, methods and options, as words or as names spelled as a string or cartouche."""
    reasons = []
    for token in tokens:
        if token.kind == "cartouche" and token.text.startswith("{*"):
            reasons.append("the theory uses old-style {* *} text (write a cartouche: Isabelle releases read it apart)")
        word = (
            token.text if token.kind == "ident" else _unquoted(token) if token.kind in ("string", "cartouche") else ""
        )
        reason = _word_reason(word) if word else None
        if reason is not None:
            reasons.append(f"the theory {reason} (`{token.text}`)")
    return reasons


def _antiquotation_reasons(tokens: list[Token]) -> list[str]:
    """Antiquotations in text, formal comments and strings that run code: `@{ML ...}`, `\\<^ML>...`, or a
    method such as `@{lemma ... by (tactic ...)}` (document antiquotations are checked even without a
    document, so their ML runs while the theory is built)."""
    reasons = []
    for token in tokens:
        if token.kind not in ("string", "cartouche", "comment") or token.text.startswith("(*"):
            continue
        for match in _ANTIQUOTATION.finditer(token.text):
            name = match.group("name")
            if name is not None and name in FORMATTING_ANTIQUOTATIONS:
                continue
            inside = token.text[match.start() :]
            for word in re.findall(r"[A-Za-z][A-Za-z0-9_']*", inside):
                reason = _word_reason(word)
                if reason is not None:
                    reasons.append(f"the theory {reason} in an antiquotation (`{word}` in `{inside[:40]}`)")
    return reasons


_SPEC_STOPS = frozenset(DECLARING) | frozenset(FORBIDDEN_COMMANDS) | frozenset(ISABELLE_PROOF_STARTS)
_SPEC_STOPS |= frozenset(
    ("end", "context", "instantiation", "instance", "lemmas", "declare", "corollary", "proposition")
)


def _inner_declared_names(tokens: list[Token]) -> list[str]:
    """Names a datatype or record declares inside its specification: constructors (after `=` or `|`,
    past a `disc:` name), selectors and discriminators (before `:`) and fields (before `::`). They are
    qualified by the type (`t.double`), so they do not clash with the header's constant, yet the short
    name now means them."""
    names: list[str] = []
    for index, token in enumerate(tokens):
        if token.kind != "ident" or token.text not in ("datatype", "codatatype", "record"):
            continue
        for at in range(index + 1, len(tokens)):
            current = tokens[at]
            if current.kind == "ident" and current.text in _SPEC_STOPS:
                break
            following = tokens[at + 1 : at + 3]
            if current.text in ("=", "|") and following and following[0].kind == "ident":
                constructor = following
                if len(following) == 2 and following[1].text == ":" and at + 3 < len(tokens):
                    constructor = [tokens[at + 3]]
                names.append(constructor[0].text.strip('"'))
            elif current.kind == "ident" and following and following[0].text == ":":
                names.append(current.text)  # a field (`x :: nat`), a selector (`(x: nat)`) or a discriminator
    return names


_NAMING = frozenset(DECLARING) - {
    "datatype", "codatatype", "type_synonym", "typedef", "record", "locale", "class", "theorem", "lemma", "typedecl",
    "quotient_type",
}  # fmt: skip
"""Commands that declare global constants: every name they declare is read, not only the first."""
_NAME_REQUIRED = frozenset(("definition", "abbreviation", "lift_definition", "quotient_definition"))
_SPEC_END = frozenset(("where", "for", "is"))


def _constant_names(tokens: list[Token]) -> tuple[list[str], list[str]]:
    """The global constants the body's declarations name, and why a declaration's names cannot be read.

    Each command's specification is read up to `where`, `for` or `is`: the name after the keyword, every
    name given a type (`a :: nat`, the second of `consts dummy :: nat a :: nat`) and every name after
    `and`. A definition with no name written (`definition "a \\<equiv> 1"`, its name taken from the equation)
    or one in a locale's target (`(in l)`) is refused: the gate restates the theorem after the body, so a
    constant named like one of the statement's free variables would turn them into that constant.
    """
    names: list[str] = []
    problems: list[str] = []
    for index, token in enumerate(tokens):
        if token.kind != "ident" or token.text not in _NAMING:
            continue
        following = tokens[index + 1 : index + 3]
        if [t.text for t in following] == ["(", "in"]:
            problems.append(f"the theory's `{token.text} (in ...)` declares into a locale the gate cannot read")
            continue
        if token.text in _NAME_REQUIRED and (not following or following[0].kind != "ident"):
            problems.append(
                f"the theory's `{token.text}` does not write its constant's name (write `{token.text} NAME where ...`)"
            )
            continue
        for at in range(index + 1, len(tokens)):
            current = tokens[at]
            if current.kind == "ident" and (current.text in _SPEC_STOPS or current.text in _SPEC_END):
                break
            typed = [t.text for t in tokens[at + 1 : at + 3]] == [":", ":"]  # the tokenizer splits `::`
            if current.kind in ("ident", "string") and (at == index + 1 or typed or tokens[at - 1].text == "and"):
                names.append(current.text.strip('"'))
    return names, problems


def _open_contexts(tokens: list[Token]) -> list[str]:
    """A body whose `begin`s and `end`s do not pair off would put the gate's restatement inside a context
    of the candidate's (a locale assuming False, say) or after the theory's end."""
    depth = 0
    for token in tokens:
        if token.kind != "ident":
            continue
        if token.text == "begin":
            depth += 1
        elif token.text == "end":
            depth -= 1
            if depth < 0:
                return ["the theory's body closes a context it did not open (`end`)"]
    if depth:
        return ["the theory's body leaves a context open (`begin` without `end`)"]
    return []


def lint_isabelle(problem: ProofProblem, source: str) -> tuple[list[str], str]:
    """Why the theory is refused before any build (empty when it passes), and its body (after the
    task's header, before the final `end`)."""
    try:
        all_tokens = isabelle_tokens(source)
        tokens = code_tokens(all_tokens)
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
    reasons = _forbidden(body_tokens)
    body_start = tokens[len(header_tokens) - 1].end if header_tokens else 0
    reasons.extend(_antiquotation_reasons([t for t in all_tokens if body_start <= t.start < tokens[-1].start]))
    reasons.extend(_open_contexts(body_tokens))
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
    declared, problems = _constant_names(body_tokens)
    reasons.extend(problems)
    for name in declared:
        if name in mentioned:
            reasons.append(f"the theory declares {name} again, a name the task's statement uses")
    for name in _inner_declared_names(body_tokens):
        if name in mentioned:
            reasons.append(
                f"the theory declares {name} again (a constructor or field), a name the task's statement uses: "
                "the gate's restatement would read it as the new one"
            )
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
