"""`recurrence-values`: a sequence given by its first terms and a recurrence, evaluated at large indices.

Statements such as `x 1 = 211, ..., x n = x (n - 1) - x (n - 2) + x (n - 3) - x (n - 4) for n >= 5` asking for
`x 531 + x 753 + x 975` are out of reach of every automation sweep: unfolding the recurrence 975 times by
rewriting is far beyond the budget, and the period (10 here) is a fact no tactic guesses. Coq can compute the
terms, though, once they are tied to a function it can run. The draft states, for the recurrence's window of
`k` consecutive terms, `Nat.iter m step (first k values) = (x (b + m), ..., x (b + k - 1 + m))`, where `step`
shifts the window and appends the recurrence's right side written over the window; it is proved by induction on
`m` (the base case from the premises giving the first terms, the step by one instance of the recurrence with
its premises shown by `lia`, indices normalised by `cbn` and `Nat.add_succ_r`). Each term of the conclusion at
a numeral index is then the window's first component at `m = index - b`, computed in the virtual machine.

Read from the statement: a sequence `x : nat -> Z` (or `nat -> nat`), exactly one premise `forall n, ... -> x
(n + c) = E` whose right side refers to `x` only at `n + c - 1`, ..., `n + c - k` (indices written `n`, `S n`,
`n + j`, `n - j`) and to `n` nowhere else, premises `x i = v` (numerals) for `k` consecutive indices, and a
conclusion naming `x` at numeral indices below `MAX_INDEX`. Sequences of rationals or reals are not offered:
their terms are not values Coq computes by `=` (`Qred` would be needed, or they are real numbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.proof_search._memory import premises_and_conclusion, split_top
from tools.proofs import ProofProblem

MAX_INDEX = 4999
"""Above this, Coq keeps a `nat` numeral as its digits (`Nat.of_num_uint`), which the computed term would not match."""

MAX_ORDER = 8
_TYPES = ("Z", "nat")
_IDENT = r"[A-Za-z_][\w']*"
_FORALL = re.compile(rf"^forall\s*\(?\s*({_IDENT})\s*(?::\s*nat\s*)?\)?\s*,\s*(.*)$", re.S)
_NUMERAL_VALUE = re.compile(r"^\(?\s*(-?\s*\d+)\s*\)?\s*(?:%\s*(?:Z|nat))?$")
_INDEX_NUMERAL = re.compile(r"^\(?\s*(\d+)\s*(?:%\s*nat\s*)?\)?\s*(?:%\s*nat)?$")


@dataclass(frozen=True)
class Recurrence:
    """What the draft needs: the sequence, its type, the window, the rule's instance and the indices asked for."""

    sequence: str
    type: str
    order: int
    first: int
    values: tuple[str, ...]
    rule: str
    """The right side over the window's components `rv_t1` (oldest) .. `rv_tk` (newest)."""
    offset: int
    """`c` of the rule's left side `x (n + c)`."""
    premises: int
    """How many premises the rule has before its equation (each shown by `lia` at the instance)."""
    indices: tuple[int, ...]


def _strip(text: str) -> str:
    """`text` without scope suffixes on its outer parentheses and without the parentheses."""
    text = text.strip()
    while True:
        unscoped = re.sub(r"\)\s*%\s*\w+$", ")", text)
        if (
            unscoped.startswith("(")
            and unscoped.endswith(")")
            and split_top(unscoped[1:-1], ")") == [unscoped[1:-1].strip()]
        ):
            text = unscoped[1:-1].strip()
            continue
        return text


def index_offset(text: str, variable: str) -> int | None:
    """`j` where `text` is the index `variable + j` (`n`, `S (S n)`, `n + 2`, `(n - 1)%nat`), else None."""
    text = _strip(text)
    if text == variable:
        return 0
    successor = re.match(r"^(?:S|Nat\.succ)\s+(.*)$", text, re.S)
    if successor:
        inner = index_offset(successor.group(1), variable)
        return None if inner is None else inner + 1
    for separator, sign in (("+", 1), ("-", -1)):
        parts = split_top(text, separator)
        if len(parts) != 2:
            continue
        left, right = _strip(parts[0]), _strip(parts[1])
        if left == variable and right.isdigit():
            return sign * int(right)
        if sign == 1 and right == variable and left.isdigit():
            return int(left)
    return None


def _argument_end(text: str, start: int) -> int | None:
    """Where the argument starting at `start` (a parenthesised group or a word) ends, its scope included."""
    if start >= len(text):
        return None
    end = None
    if text[start] == "(":
        depth = 0
        for index in range(start, len(text)):
            if text[index] == "(":
                depth += 1
            elif text[index] == ")":
                depth -= 1
                if depth == 0:
                    end = index + 1
                    break
    else:
        word = re.match(r"[\w']+", text[start:])
        end = start + word.end() if word else None
    if end is None:
        return None
    scope = re.match(r"%\s*nat\b", text[end:])
    return end + (scope.end() if scope else 0)


def applications(text: str, function: str) -> list[tuple[int, int, str]]:
    """Each `function ARG` in `text`: its span and the argument's text; None where one cannot be read."""
    found = []
    for match in re.finditer(rf"(?<![\w.']){re.escape(function)}(?![\w'])", text):
        start = match.end()
        while start < len(text) and text[start].isspace():
            start += 1
        end = _argument_end(text, start)
        if end is None:
            return []
        found.append((match.start(), end, text[start:end]))
    return found


_Z = "BinInt.Z"
_OPERATIONS = {"+": (50, f"{_Z}.add"), "*": (40, f"{_Z}.mul"), "/": (40, f"{_Z}.div"), "mod": (40, f"{_Z}.modulo")}
_PUSH_OF_NAT = (
    "repeat first [rewrite Znat.Nat2Z.inj_add | rewrite Znat.Nat2Z.inj_mul | rewrite Znat.Nat2Z.inj_pow "
    "| rewrite Znat.Nat2Z.inj_mod | rewrite Znat.Nat2Z.inj_div]"
)
"""`Z.of_nat` pushed through the operations a natural rule may use (the lemmas `in_integers` mirrors)."""


def in_integers(rule: str) -> str | None:
    """A natural-number rule over the window written in binary integers by full names, so it reads the same
    under any header (`Z`'s scope and short names need `ZArith` imported): `rv_t2 + 2 * rv_t1` as
    `BinInt.Z.add rv_t2 (BinInt.Z.mul (BinInt.Z.of_nat 2) rv_t1)`; None where it uses anything else."""
    tokens = re.findall(r"rv_t\d+|\d+|mod\b|[-+*/^()]|\S+", rule)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def atom() -> str | None:
        nonlocal position
        token = peek()
        position += 1
        if token is None:
            return None
        if token == "(":
            inner = expression(50)
            if peek() != ")":
                return None
            position += 1
            return inner
        if token.startswith("rv_t"):
            return token
        if token.isdigit() and int(token) <= MAX_INDEX:
            return f"({_Z}.of_nat {token})"
        return None

    def power() -> str | None:
        nonlocal position
        base = atom()
        if base is None or peek() != "^":
            return base
        position += 1
        exponent = power()
        return None if exponent is None else f"({_Z}.pow {base} {exponent})"

    def expression(level: int) -> str | None:
        nonlocal position
        left = power()
        while left is not None and (token := peek()) in _OPERATIONS and _OPERATIONS[token][0] <= level:
            precedence, name = _OPERATIONS[token]
            position += 1
            right = expression(precedence - 10) if precedence == 50 else power()
            left = None if right is None else f"({name} {left} {right})"
        return left

    result = expression(50)
    return result if result is not None and position == len(tokens) else None


def _rule(premise: str, sequence: str) -> tuple[str, int, int, int] | None:
    """The right side over the window, the window's length, the left side's offset and the premise count."""
    match = _FORALL.match(_strip(premise))
    if match is None:
        return None
    variable, body = match.group(1), match.group(2)
    parts = split_top(body, "->")
    equation = split_top(_strip(parts[-1]), "=")
    if len(equation) != 2:
        return None
    left, right = _strip(equation[0]), equation[1]
    head = applications(left, sequence)
    if len(head) != 1 or head[0][0] != 0 or head[0][1] != len(left):
        return None
    offset = index_offset(head[0][2], variable)
    if offset is None:
        return None
    references = applications(right, sequence)
    if not references:
        return None
    shifts = []
    for _, _, argument in references:
        reference = index_offset(argument, variable)
        if reference is None or not 1 <= offset - reference <= MAX_ORDER:
            return None
        shifts.append(offset - reference)
    order = max(shifts)
    pieces, position = [], 0
    for (start, end, _), shift in zip(references, shifts, strict=True):
        pieces.append(right[position:start])
        pieces.append(f"rv_t{order - shift + 1}")
        position = end
    pieces.append(right[position:])
    rule = "".join(pieces)
    if re.search(rf"(?<![\w.']){re.escape(variable)}(?![\w'])", rule):
        return None
    return rule.strip(), order, offset, len(parts) - 1


def _known_values(premises: list[str], sequence: str) -> dict[int, str]:
    """Indices whose term a premise gives as a numeral (`x 1%nat = 211%Z`, either side)."""
    known: dict[int, str] = {}
    for conjunct in (part for premise in premises for part in split_top(premise, "/\\")):
        sides = split_top(_strip(conjunct), "=")
        if len(sides) != 2:
            continue
        for side, value in (sides, sides[::-1]):
            term = _strip(side)
            head = applications(term, sequence)
            number = _NUMERAL_VALUE.match(value.strip())
            if len(head) != 1 or head[0][0] != 0 or head[0][1] != len(term) or number is None:
                continue
            index = _INDEX_NUMERAL.match(head[0][2])
            if index is not None:
                known.setdefault(int(index.group(1)), number.group(1).replace(" ", ""))
    return known


def recurrence(problem: ProofProblem) -> Recurrence | None:
    """The statement's sequence and recurrence as `recurrence-values` needs them, or None where it has none."""
    binders, premises, conclusion = premises_and_conclusion(problem)
    for binder in binders:
        kind = re.fullmatch(r"nat\s*->\s*(\w+)", binder.type.strip())
        if kind is None or kind.group(1) not in _TYPES:
            continue
        sequence = binder.name
        rules = [
            parsed
            for premise in premises
            if premise.lstrip("( ").startswith("forall") and (parsed := _rule(premise, sequence)) is not None
        ]
        if len(rules) != 1:
            continue
        rule, order, offset, count = rules[0]
        if kind.group(1) == "nat":
            # Computed in binary integers: only operations that agree on both (no truncated `-`, no `pred`).
            translated = in_integers(re.sub(r"%\s*nat\b", "", rule))
            if translated is None:
                continue
            rule = translated
        asked: list[int] = []
        for _, _, argument in applications(conclusion, sequence):
            index = _INDEX_NUMERAL.match(argument)
            if index is None:
                asked = []
                break
            asked.append(int(index.group(1)))
        if not asked or max(asked) > MAX_INDEX:
            continue
        known = _known_values(premises, sequence)
        for first in sorted(known):
            window = [known.get(first + step) for step in range(order)]
            too_large = kind.group(1) == "nat" and any(value and int(value) > MAX_INDEX for value in window)
            if None in window or too_large or first + order < offset or first > min(asked):
                continue
            return Recurrence(
                sequence,
                kind.group(1),
                order,
                first,
                tuple(value for value in window if value is not None),
                rule,
                offset,
                count,
                tuple(dict.fromkeys(asked)),
            )
    return None


_INDEX_NORMAL = "?PeanoNat.Nat.add_succ_r, ?PeanoNat.Nat.add_0_r, ?PeanoNat.Nat.sub_0_r"
"""With `cbn`, an index `(n + 2) - 1` at `n = 3 + m` becomes `S (S (S (S m)))`, as the window's indices do."""
_GIVEN = "first [assumption | symmetry; assumption]"
_FIRST_TERM = f"first [{_GIVEN} | f_equal; {_GIVEN} | lia]"
"""A first term of the window from its premise (`x 1 = 211`, or under `Z.of_nat` for natural numbers)."""


_EVEN_OF_NAT = (
    f"forall rv_n : nat, Nat.even rv_n = {_Z}.even ({_Z}.of_nat rv_n)",
    "intro rv_n; destruct (PeanoNat.Nat.Even_or_Odd rv_n) as [[rv_k RV_K]|[rv_k RV_K]]; subst rv_n; "
    "rewrite ?Znat.Nat2Z.inj_add, ?Znat.Nat2Z.inj_mul, ?PeanoNat.Nat.even_add, ?PeanoNat.Nat.even_mul, "
    f"?{_Z}.even_add, ?{_Z}.even_mul; reflexivity",
)
"""Parity of a natural number read off its integer: the standard library of Coq 8.16 states no such lemma."""


def _parity(facts: list[str]) -> str:
    """Where the conclusion asks whether terms are even or odd (`Nat.even (x 2021) = true`): each parity is the
    parity of the term's integer, which the facts give as a numeral, so the question is computed."""
    statement, proof = _EVEN_OF_NAT
    return (
        "try (match goal with |- context [Nat.odd _] => rewrite <- ?PeanoNat.Nat.negb_even | _ => idtac end; "
        "lazymatch goal with |- context [Nat.even _] => "
        f"assert (RV_EVEN : {statement}) by ({proof}); rewrite ?RV_EVEN; "
        f"rewrite {', '.join(f'<- ?{fact}' for fact in facts)}; vm_compute end)"
    )


def recurrence_values(problem: ProofProblem) -> str | None:
    """The draft's step: the window lemma, proved by induction, and each asked term computed.

    A sequence of natural numbers is computed in binary integers (its terms grow past what unary `nat` holds):
    the window holds `Z.of_nat` of the terms, the step shown by pushing `Z.of_nat` through the rule, and each
    asked term is left as a fact `v = Z.of_nat (x i)` for `lia`. Integer terms are rewritten into the conclusion."""
    found = recurrence(problem)
    if found is None:
        return None
    x, k, b = found.sequence, found.order, found.first
    naturals = found.type == "nat"
    names = [f"rv_t{j + 1}" for j in range(k)]
    number_type = "BinNums.Z" if naturals else "Z"
    rule = found.rule if naturals else f"({found.rule})%Z"
    if k == 1:
        step = f"(fun rv_t1 : {number_type} => {rule})"
    else:
        window = ", ".join(names)
        window_type = " * ".join([number_type] * k)
        step = f"(fun rv_w : {window_type} => let '({window}) := rv_w in ({', '.join([*names[1:], rule])}))"
    start = "(" + ", ".join(f"({_Z}.of_nat {v})" if naturals else f"({v})%Z" for v in found.values) + ")"

    def term(index: str) -> str:
        return f"{_Z}.of_nat ({x} {index})" if naturals else f"{x} {index}"

    terms = "(" + ", ".join(term(f"({b + j} + rv_m)%nat") for j in range(k)) + ")"
    instance = f"({b + k - found.offset} + rv_m)%nat"
    premises = " ".join(["ltac:(repeat split; lia)"] * found.premises)
    first = "fun rv_w => " + "fst (" * (k - 1) + "rv_w" + ")" * (k - 1)
    lemma = (
        f"assert (RV : forall rv_m : nat, Nat.iter rv_m {step} {start} = {terms}) by ("
        "intro rv_m; induction rv_m as [|rv_m RV_IH]; "
        f"[cbn [Nat.add Nat.iter nat_rect]; repeat apply (f_equal2 pair); {_FIRST_TERM} |"
        "change (Nat.iter (S ?m) ?f ?a) with (f (Nat.iter m f a)); rewrite RV_IH; cbn [Nat.add Nat.sub]; "
        "match goal with R : forall _ : nat, _ |- _ => "
        f"pose proof (R {instance} {premises}) as R0; "
        f"cbn [Nat.add Nat.sub] in R0; rewrite {_INDEX_NORMAL} in R0; "
        f"rewrite R0; {_PUSH_OF_NAT if naturals else 'idtac'}; reflexivity end])"
    )
    steps = [lemma]
    facts: list[str] = []
    for index in found.indices:
        fact = f"RV_V{len(facts)}"
        facts.append(fact)
        steps.append(
            f"pose proof (RV {index - b}%nat) as {fact}; apply (f_equal ({first})) in {fact}; "
            f"cbn [fst Nat.add] in {fact}; lazymatch type of {fact} with ?l = _ => replace l with "
            f"(ltac:(let v := eval vm_compute in l in exact v)) in {fact} by (vm_compute; reflexivity) end"
        )
    if naturals:
        # The conclusion moved into the integers, where the facts speak of `Z.of_nat (x i)`.
        steps.append(
            "try (first [apply Znat.Nat2Z.inj | apply Znat.Nat2Z.inj_lt | apply Znat.Nat2Z.inj_le]; "
            f"{_PUSH_OF_NAT}; rewrite {', '.join(f'<- ?{fact}' for fact in facts)})"
        )
        steps.append(_parity(facts))
    else:
        steps.append(f"rewrite {', '.join(f'<- ?{fact}' for fact in facts)} in *; clear {' '.join(facts)}")
    return "; ".join(steps) + "."
