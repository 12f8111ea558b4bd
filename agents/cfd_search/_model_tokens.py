"""What a model edit may add to the family's C++: arithmetic over the model's own fields, nothing else.

The model's C++ is compiled into a library that every OpenFOAM program of the case loads, so it runs
inside the solver with the solver's rights over the case: it could write the very fields and
post-processing files the comparator and the gates read, or change them when the library unloads.
A deny-list of names (`unsafe_source`) cannot close C++: `std::ofstream`, `OFstream`, `fopen`, an
`IOobject` registered as `U` with `AUTO_WRITE`, a static constructor, pointer casts into a field's
storage all write without naming `system`. So the edit is compared with the family's source token by
token, and every token it adds or replaces must come from an allow-list: numbers, operators, the
model's own quantities and coefficients, OpenFOAM's field arithmetic (`exp`, `mag`, `symm`,
`fvc::grad`, ...), the declarations of local values and names the edit declares itself. What it
removes is free (it can only lose the model's own code). Files, streams, registration, memory
addresses, preprocessor lines, literals other than numbers and plain names, and new types are not
expressible, so a candidate changes the model, never the case's results behind the solver's back.
"""

from __future__ import annotations

import difflib
import re

ALLOWED_WORDS = frozenset(
    {
        # C++ needed for expressions, conditions and local values
        *("const", "return", "if", "else", "true", "false", "this", "typename", "auto"),
        # types of values and fields
        *("scalar", "label", "tmp", "volScalarField", "volVectorField", "volTensorField", "volSymmTensorField"),
        *("dimensionedScalar", "dimless", "dimLength", "dimTime", "dimVelocity", "dimArea", "dimViscosity"),
        *("Zero", "SMALL", "VSMALL", "ROOTVSMALL", "GREAT", "constant", "mathematical", "pi"),
        # field arithmetic
        *("exp", "log", "log10", "sqrt", "cbrt", "pow", "pow3", "pow4", "pow5", "pow6", "sqr", "mag", "magSqr"),
        *("min", "max", "tanh", "sinh", "cosh", "atan", "sin", "cos", "sign", "pos", "neg", "pos0", "neg0"),
        *("symm", "skew", "twoSymm", "dev", "dev2", "tr", "stabilise", "limit", "erf"),
        *("fvc", "fvm", "grad", "div", "laplacian", "Sp", "SuSp", "Su", "ddt", "magSqrGradGrad"),
        # the model's own quantities, coefficients and helpers (SpalartAllmaras and the family)
        *("chi", "fv1", "fv2", "fv3", "fw", "Stilda", "nu", "nut_", "nuTilda_", "U_", "y_", "kappa_"),
        *("Cb1_", "Cb2_", "Cw1_", "Cw2_", "Cw3_", "Cv1_", "Cs_", "sigmaNut_", "DnuTildaEff", "nuTilda"),
        *("Cproduction_", "Cdestruction_", "Cfv1_", "productionFeature_", "destructionFeature_", "fv1Feature_"),
        *("featureScale_", "referenceLength_", "feature", "multiplier", "form", "amplitude"),
        *("gradU", "rd", "S2", "W2", "smallRate", "smallLength", "betaP", "betaD", "alpha", "rho"),
        *("alphaRhoPhi", "nuTildaEqn", "fvOptions", "scaled"),
        # members a field expression may read
        *("ref", "value", "internalField", "primitiveField", "dimensions", "component", "T"),
    }
)
_TYPES = frozenset(
    {"scalar", "label", "auto", "volScalarField", "volVectorField", "volTensorField", "volSymmTensorField"}
    | {"dimensionedScalar", "tmp"}
)
_PUNCTUATORS = sorted(
    (
        *("->*", "<<=", ">>=", "...", "::", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||"),
        *("+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", ".*", "<:", ":>", "<%", "%>", "%:"),
        *"{}[]()<>;:,.?!~+-*/%^&|=#",
    ),
    key=len,
    reverse=True,
)
_ALLOWED_PUNCTUATORS = frozenset(
    {"::", "->", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=", "*=", "/=", *"{}()<>;:,.?!+-*/&="}
)
_TOKEN = re.compile(
    r"(?P<space>\s+)|(?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))"
    r"|(?P<string>\"(?:[^\"\\\n]|\\.)*\"?)|(?P<char>'(?:[^'\\\n]|\\.)*'?)"
    r"|(?P<number>\.?[0-9](?:[eEpP][+-]|[0-9A-Za-z_.'])*)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<punctuator>" + "|".join(re.escape(p) for p in _PUNCTUATORS) + r")"
    r"|(?P<other>.)",
    re.DOTALL,
)
_PLAIN_NAME = re.compile(r"\"[A-Za-z_][A-Za-z0-9_]{0,40}\"")
_MAX_PROBLEMS = 10


def tokens(source: str) -> list[str]:
    """C++ tokens as the compiler sees them after line splicing; comments and white space dropped."""
    spliced = source.replace("\\\r\n", "").replace("\\\n", "")
    found: list[str] = []
    for match in _TOKEN.finditer(spliced):
        kind = match.lastgroup
        if kind in ("space", "comment"):
            continue
        text = match.group(0)
        # C++11: `<::` is `<` then `::` unless followed by `:` or `>`, not the digraph `<:` then `:`.
        if (
            text == "<:"
            and spliced.startswith("<::", match.start())
            and spliced[match.start() + 3 : match.start() + 4] not in (":", ">")
        ):
            found += ["<", "::"]
            continue
        found.append(text)
    return found


def _declarations(stream: list[str]) -> dict[str, str]:
    """Names declared in `stream` and their types: a word right after a type, `T&` or `tmp<T>`."""
    found: dict[str, str] = {}
    for index, word in enumerate(stream):
        if not (word[:1].isalpha() or word[:1] == "_") or word in _TYPES or index == 0:
            continue
        before = stream[index - 1]
        if before == "&" and index > 1:
            before = stream[index - 2]
        if before == ">" and index > 2:
            before = stream[index - 3] if stream[index - 2] in _TYPES else stream[index - 2]
        if before in _TYPES:
            found.setdefault(word, before)
    return found


def _refusal(token: str, allowed: set[str]) -> str | None:
    if token[0].isalpha() or token[0] == "_":
        return None if token in allowed else f"the name {token!r}"
    if token[0].isdigit() or (token[0] == "." and len(token) > 1):
        return None
    if token[0] == '"':
        return None if _PLAIN_NAME.fullmatch(token) else f"the string {token[:40]!r} (only plain names)"
    if token[0] == "'":
        return f"the character literal {token[:12]!r}"
    return None if token in _ALLOWED_PUNCTUATORS else f"the symbol {token!r}"


def _misplaced(stream: list[str], index: int, declared: dict[str, str]) -> str | None:
    """Why an allowed token is refused where it stands (None when it is fine there)."""
    token = stream[index]
    previous = stream[index - 1] if index > 0 else ""
    following = stream[index + 1] if index + 1 < len(stream) else ""
    after = stream[index + 2] if index + 2 < len(stream) else ""
    if token == "?" and following == "?":
        return "the trigraph '??'"
    if token == "&" and previous in ("(", ",", "=", "return", "&", "*", "+", "-", "!", "?", ":", "{", ";"):
        return "an address ('&' before a value)"
    if token == "*" and following in (")", ">", ",", "*", "&"):
        return "a pointer type ('*')"
    if token == "this" and following != "->":
        return "'this' other than to reach a member ('this->')"
    if token in ("(", ",") and (
        following == "const" or (following in _TYPES and (after in (",", ")", "&") or after[:1].isalpha()))
    ):
        return "a parameter list (a model edit declares no functions that take arguments)"
    if token[:1] == '"':
        owner = stream[index - 2] if index > 1 else ""
        if previous != "(" or not (owner == "dimensionedScalar" or declared.get(owner) == "dimensionedScalar"):
            return f"the string {token[:40]!r} other than as a dimensionedScalar's name"
    return None


def foreign_tokens(source: str, family: str) -> list[str]:
    """Why the edit is refused: each token it adds to `family` that the allow-list does not hold.

    Names the edit declares (`const volScalarField fs(...)`, `const scalar c = 0.3`) join the
    allow-list. Some allowed tokens are refused where they stand: `??` (a trigraph in ISO C++11), `&`
    and `*` that take or follow an address (`&x`, `(scalar*)`), `this` other than in `this->`, a
    parameter list (a prototype binds to any library function of that signature), and a string that
    is not a `dimensionedScalar`'s name (`IOobject("U", ...)` would register a field as the solver's).
    """
    theirs = tokens(source)
    matcher = difflib.SequenceMatcher(None, tokens(family), theirs, autojunk=False)
    declared = _declarations(theirs)
    allowed = set(ALLOWED_WORDS) | set(declared)
    added = [
        index
        for operation, _, _, start, end in matcher.get_opcodes()
        if operation in ("insert", "replace")
        for index in range(start, end)
    ]
    # Where a token stands matters too: a template token right before an added one is judged with it.
    near = sorted({index for i in added for index in range(max(i - 2, 0), i + 1)})
    added_set = set(added)
    problems: list[str] = []
    for index in near:
        reason = _refusal(theirs[index], allowed) if index in added_set else None
        reason = reason or _misplaced(theirs, index, declared)
        if reason is not None and reason not in problems:
            problems.append(reason)
    return [
        f"the edit adds {reason}: a model edit may use only numbers, arithmetic, the model's own quantities "
        "and OpenFOAM's field functions (no files, streams, registration, addresses or new types)"
        for reason in problems[:_MAX_PROBLEMS]
    ]
