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

The tokens are the compiler's (`translated`: g++ -std=c++11's line ends, trigraphs and line splices
first), so no comment, string or splice reads one way here and another way in g++. A name the edit
declares is a value of an allowed type and is admitted only where C++ resolves it to that value: after
its declaration and inside the braces (or, for a parameter, the body) that declare it, never after `.`,
`->`, `::` or `template` (a member of something else), before `::` (a type or namespace), or before `(`
(a call: a function, or a function-like macro of the headers, of that name). A declaration may not be a
function: one of a base class's names (`devReff`, what post-processing reads the wall shear from) would
replace that function behind the solver's back; nor may one whose name is on the allow-list (`nu()`, the
molecular viscosity the momentum equation reads, would change the task's Reynolds number).

A red-team pass found three more ways around a diff of allowed tokens, each closed here for any name:
- state: a data member declared in the class (`scalar calls_ = 0;`), counted up in `correct()`, told the
  model its last iteration, where it forced the eddy viscosity's wall values (`this->nut_ == ...`) after
  the velocity was solved: the wall shear OpenFOAM wrote fell 6 % while the flow stayed plain SA. A
  declaration must lie inside a function body; an assignment (`=`, `+=`, ...) may only initialise the
  value it declares; a forced assignment `==` may not be added at all (`pos`/`neg` make conditions);
- reuse: a name of the family outside the allow-list (`runTime_`, `mesh_`, `bound`, `solve`, ...) kept by
  the diff could be moved anywhere (`this->runTime_.value()`, `bound(this->nut_, ...)`). Such a name may
  stand only among the neighbours it has in the family (`_REUSE_REACH` tokens on each side).
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
    r"(?P<space>[ \t\n\v\f]+)|(?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))"
    r"|(?P<raw>(?:u8|[uUL])?R\"(?P<delimiter>[^ ()\\\t\v\f\n\"]{0,16})\(.*?(?:\)(?P=delimiter)\"|\Z))"
    r"|(?P<string>(?:u8|[uUL])?\"(?:[^\"\\\n]|\\.)*\"?)|(?P<char>[uUL]?'(?:[^'\\\n]|\\.)*'?)"
    r"|(?P<number>\.?[0-9](?:[eEpP][+-]|[0-9A-Za-z_.])*)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<punctuator>" + "|".join(re.escape(p) for p in _PUNCTUATORS) + r")"
    r"|(?P<other>.)",
    re.DOTALL,
)
_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFlL]?|[0-9]+[uUlL]{0,3}")
"""A number as a number (a pp-number also takes letters: `1.0_x` calls a user-defined literal operator)."""
_PLAIN_NAME = re.compile(r"\"[A-Za-z_][A-Za-z0-9_]{0,40}\"")
_TRIGRAPHS = {"??=": "#", "??/": "\\", "??'": "^", "??(": "[", "??)": "]", "??!": "|", "??<": "{", "??>": "}"}
_TRIGRAPHS["??-"] = "~"
_TRIGRAPH = re.compile(r"\?\?[=/'()!<>-]")
_SPLICE = re.compile(r"\\[ \t\v\f\0]*\n")
"""A line splice as g++ reads one: white space may stand between the backslash and the line end."""
_DIRECTIVE = frozenset({"#", "%:"})
_KEYWORDS = frozenset(
    {
        *("alignas", "alignof", "and", "and_eq", "asm", "bitand", "bitor", "bool", "break", "case", "catch"),
        *("char", "char16_t", "char32_t", "class", "compl", "const_cast", "constexpr", "continue", "decltype"),
        *("default", "delete", "do", "double", "dynamic_cast", "enum", "explicit", "export", "extern", "float"),
        *("for", "friend", "goto", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not"),
        *("not_eq", "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register"),
        *("reinterpret_cast", "short", "signed", "sizeof", "static", "static_assert", "static_cast", "struct"),
        *("switch", "template", "thread_local", "throw", "try", "typedef", "typeid", "union", "unsigned"),
        *("using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq", "override", "final"),
    }
)
_ASSIGNMENTS = frozenset({"=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="})
_REUSE_REACH = 2
"""Tokens on each side of a name outside the allow-list that must be as the family has them."""
_MEMBER_ACCESS = frozenset({".", "->", "::", ".*", "->*", "template", "typename", "~", "operator", "goto"})
_MAX_PROBLEMS = 10


def translated(source: str) -> str:
    """`source` after g++ -std=c++11's first two translation phases: every line end (CR LF, or a CR alone)
    made LF, trigraphs replaced (`??/` is a backslash) and line splices removed, as the compiler reads it."""
    text = source.replace("\r\n", "\n").replace("\r", "\n")
    text = _TRIGRAPH.sub(lambda match: _TRIGRAPHS[match.group(0)], text)
    return _SPLICE.sub("", text)


def tokens(source: str) -> list[str]:
    """C++ tokens as the compiler sees them after translation; comments and white space dropped.

    A preprocessor line (`#` or `%:` to the end of its line) is one token, its tokens joined by one space:
    a directive the edit adds or changes is a new token, never a kept `#` with new words after it."""
    text = translated(source)
    found: list[str] = []
    directive: list[str] | None = None
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "space" and directive is not None and "\n" in match.group(0):
            found.append("#" + " ".join(directive[1:]))
            directive = None
        if kind in ("space", "comment"):
            continue
        piece = match.group(0)
        if directive is not None:
            directive.append(piece)
            continue
        if piece in _DIRECTIVE:
            directive = [piece]
            continue
        # C++11: `<::` is `<` then `::` unless followed by `:` or `>`, not the digraph `<:` then `:`.
        start = match.start()
        if piece == "<:" and text.startswith("<::", start) and text[start + 3 : start + 4] not in (":", ">"):
            found += ["<", "::"]
            continue
        found.append(piece)
    if directive is not None:
        found.append("#" + " ".join(directive[1:]))
    return found


def _matching(stream: list[str]) -> dict[int, int]:
    """For each opening `{` and `(`, the index of its closing partner (the stream's end when unclosed)."""
    partner: dict[int, int] = {}
    open_at: list[int] = []
    for index, token in enumerate(stream):
        if token in ("{", "("):
            open_at.append(index)
        elif token in ("}", ")") and open_at:
            partner[open_at.pop()] = index
    for index in open_at:
        partner[index] = len(stream)
    return partner


def _declarations(stream: list[str]) -> list[tuple[str, int, int, str]]:
    """The names declared in `stream`, where C++ resolves them to that declaration: (name, index of the
    declaration, index where its scope ends, its type). A name is declared right after a type, `T&` or
    `tmp<T>`; its scope is the rest of the braces around it, or for a parameter (inside parentheses) the
    parenthesis and the body that follows."""
    partner = _matching(stream)
    enclosing: list[int] = []
    found: list[tuple[str, int, int, str]] = []
    for index, word in enumerate(stream):
        if word in ("{", "("):
            enclosing.append(index)
        elif word in ("}", ")") and enclosing:
            enclosing.pop()
        if not (word[:1].isalpha() or word[:1] == "_") or word in _TYPES or index == 0 or '"' in word:
            continue
        before = stream[index - 1]
        if before == "&" and index > 1:
            before = stream[index - 2]
        if before == ">" and index > 3 and stream[index - 2] in _TYPES and stream[index - 3] == "<":
            before = stream[index - 4]
        if before not in _TYPES:
            continue
        braces = [opening for opening in enclosing if stream[opening] == "{"]
        end = partner[braces[-1]] if braces else len(stream)
        if enclosing and stream[enclosing[-1]] == "(":
            close = partner[enclosing[-1]]
            body = close + 1
            while body < len(stream) and stream[body] not in ("{", ";"):
                body += 1
            end = partner.get(body, close) if body < len(stream) and stream[body] == "{" else close
        found.append((word, index, end, before))
    return found


def _refusal(token: str, allowed: frozenset[str] | set[str]) -> str | None:
    if token[0] == "#":
        return f"the preprocessor line {token[:60]!r}"
    if '"' in token:
        if token[0] != '"':
            return f"the string {token[:40]!r} (no prefixed or raw strings)"
        return None if _PLAIN_NAME.fullmatch(token) else f"the string {token[:40]!r} (only plain names)"
    if "'" in token:
        return f"the character literal {token[:12]!r}"
    if token[0].isalpha() or token[0] == "_":
        return None if token in allowed else f"the name {token!r}"
    if token[0].isdigit() or (token[0] == "." and len(token) > 1):
        return None if _NUMBER.fullmatch(token) else f"the number {token[:20]!r} (a literal with a suffix)"
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


def _in_function_body(stream: list[str], index: int) -> bool:
    """Whether `index` lies inside a function's body: some brace around it opens after `)` or `const`
    (a class's or a namespace's brace opens after a name or a template argument)."""
    depth = 0
    for at in range(index - 1, -1, -1):
        token = stream[at]
        if token == "}":
            depth += 1
        elif token == "{":
            if depth:
                depth -= 1
            elif at > 0 and stream[at - 1] in (")", "const"):
                return True
    return False


def _declaration_problem(stream: list[str], index: int) -> str | None:
    """Why the declaration of `stream[index]` is refused, whatever its name (None when it is a local value)."""
    name = stream[index]
    following = stream[index + 1] if index + 1 < len(stream) else ""
    after = stream[index + 2] if index + 2 < len(stream) else ""
    if name in _KEYWORDS or name.startswith("__") or (name[:1] == "_" and name[1:2].isupper()):
        return f"a declaration of the reserved name {name!r}"
    if following == "(" and (after in (")", "const", "typename") or after in _TYPES):
        return f"the function {name!r} (a model edit declares values, not functions)"
    enclosing = _enclosing(stream, index)
    if (enclosing is None or stream[enclosing] == "{") and not _in_function_body(stream, index):
        return f"the declaration of {name!r} outside a function body (a model keeps no state of its own)"
    return None


def _enclosing(stream: list[str], index: int) -> int | None:
    """The index of the innermost `{` or `(` still open at `index`."""
    open_at: list[int] = []
    for at in range(index):
        if stream[at] in ("{", "("):
            open_at.append(at)
        elif stream[at] in ("}", ")") and open_at:
            open_at.pop()
    return open_at[-1] if open_at else None


def _unresolved(stream: list[str], index: int, scopes: list[tuple[str, int, int, str]]) -> str | None:
    """Why a name outside the allow-list does not stand for a value the edit declared (None when it does)."""
    name = stream[index]
    previous = stream[index - 1] if index > 0 else ""
    following = stream[index + 1] if index + 1 < len(stream) else ""
    if any(item[0] == name and item[1] == index for item in scopes):
        return _declaration_problem(stream, index)
    if previous in _MEMBER_ACCESS:
        return f"the name {name!r} after {previous!r} (a member of something other than the edit's own values)"
    if following in ("::", "("):
        return f"the name {name!r} before {following!r} (the edit declares values, not types or functions)"
    if not any(item[0] == name and item[1] < index <= item[2] for item in scopes):
        return f"the name {name!r} outside the scope that declares it"
    return None


def _assignment_problem(stream: list[str], index: int, declarations: set[int]) -> str | None:
    """Why an added assignment is refused: only a declared value's initialiser (`const scalar c = 0.3`) may
    assign, and a forced assignment `==` (a field's boundary values too) may not be added at all."""
    token = stream[index]
    if token == "==":
        return "the operator '==' (a forced assignment of a field; pos() and neg() make conditions)"
    if token in _ASSIGNMENTS and not (token == "=" and index - 1 in declarations):
        return f"the assignment {token!r} to something the edit did not just declare (a model edit changes no state)"
    return None


def _windows(stream: list[str], skip: set[str]) -> dict[tuple[tuple[str, ...], int], int]:
    """How often each name outside the allow-list (and `skip`) stands among which neighbours: keyed by the
    window of tokens around it and the name's place in that window."""
    counts: dict[tuple[tuple[str, ...], int], int] = {}
    for index, token in enumerate(stream):
        if not (token[:1].isalpha() or token[:1] == "_") or token in ALLOWED_WORDS or token in skip:
            continue
        start = max(index - _REUSE_REACH, 0)
        key = (tuple(stream[start : index + _REUSE_REACH + 1]), index - start)
        counts[key] = counts.get(key, 0) + 1
    return counts


def _moved_names(family: list[str], theirs: list[str], declared: set[str]) -> list[str]:
    """A name of the family outside the allow-list where the family does not have it (module doc: reuse).
    The edit's own values are judged by their scope instead, unless they take a name of the family."""
    kept = _windows(family, set())
    problems = []
    for (window, place), count in _windows(theirs, declared - set(family)).items():
        if count > kept.get((window, place), 0):
            name = window[place]
            problems.append(
                f"the name {name!r} in a new place ({' '.join(window)!r}: the family's names outside "
                "the allow-list stay where the family has them)"
            )
    return problems


def foreign_tokens(source: str, family: str) -> list[str]:
    """Why the edit is refused: each token it adds to `family` that the allow-list does not hold.

    Names the edit declares (`const volScalarField fs(...)`, `const scalar c = 0.3`) join the
    allow-list where C++ resolves them to the declared value (see the module's docstring). Some allowed
    tokens are refused where they stand: `??` (a trigraph in ISO C++11), `&` and `*` that take or follow
    an address (`&x`, `(scalar*)`), `this` other than in `this->`, a parameter list (a prototype binds to
    any library function of that signature), and a string that is not a `dimensionedScalar`'s name
    (`IOobject("U", ...)` would register a field as the solver's).
    """
    theirs = tokens(source)
    family_tokens = tokens(family)
    matcher = difflib.SequenceMatcher(None, family_tokens, theirs, autojunk=False)
    scopes = _declarations(theirs)
    declared = {name: kind for name, _, _, kind in scopes}
    added = [
        index
        for operation, _, _, start, end in matcher.get_opcodes()
        if operation in ("insert", "replace")
        for index in range(start, end)
    ]
    # Where a token stands matters too: a template token right before an added one is judged with it.
    near = sorted({index for i in added for index in range(max(i - 2, 0), i + 1)})
    added_set = set(added)
    declarations = {index for _, index, _, _ in scopes}
    problems: list[str] = []
    for index in near:
        token = theirs[index]
        reason = None
        if index in added_set:
            reason = _refusal(token, ALLOWED_WORDS | set(declared))
            if reason is None and token not in ALLOWED_WORDS and (token[0].isalpha() or token[0] == "_"):
                reason = _unresolved(theirs, index, scopes)
            elif reason is None and index in declarations:
                reason = _declaration_problem(theirs, index)
            reason = reason or _assignment_problem(theirs, index, declarations)
        reason = reason or _misplaced(theirs, index, declared)
        if reason is not None and reason not in problems:
            problems.append(reason)
    for reason in _moved_names(family_tokens, theirs, set(declared)):
        if reason not in problems:
            problems.append(reason)
    return [
        f"the edit adds {reason}: a model edit may use only numbers, arithmetic, the model's own quantities "
        "and OpenFOAM's field functions (no files, streams, registration, addresses or new types)"
        for reason in problems[:_MAX_PROBLEMS]
    ]
