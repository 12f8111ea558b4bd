"""The LLM proposer: full rewrites or SEARCH/REPLACE edits, with history and diagnostics in the prompt.

Each step sends the task's contract, the allowed tunables, the parent kernel with its per-size
diagnostics and the last few attempts; it asks for `samples` completions (best-of-N), and the loop
picks one by score or by surprisal (the least confident correct sample, from token log-probs).
Held-out sizes never appear in a prompt: diagnostics are in-distribution only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from random import Random

from agents.kernel_search._loops import Individual, Proposal, ProposerExhaustedError
from agents.llm import LLM, LLMBudgetExceededError, LLMError, Message
from runs import LabgateError
from tools.kernels import KernelTask

_OPEN, _SEPARATOR, _CLOSE = "<<<<<<< SEARCH\n", "\n=======\n", "\n>>>>>>> REPLACE"
_CODE = re.compile(r"```[a-zA-Z+]*\n(.*?)```", re.DOTALL)
MAX_CONSECUTIVE_ERRORS = 3

SYSTEM = (
    "You optimise OpenCL C kernels for speed on the device described. The host code is fixed: you write device "
    "code only, keep the kernel names and signatures, and may choose tunable values on one line "
    "'//@params NAME=value ...' (only the listed values; the host passes them as -DNAME=value and sizes the grid "
    "from them). Results must stay correct at every problem size, not only the ones you are shown. Explicit vector "
    "types (float4, float8, float16, vload/vstore) and work-group sizes are where most speed is on CPU OpenCL."
)


class ReplyError(LabgateError, ValueError):
    """The reply holds no usable kernel (no code block, or an edit that does not apply)."""


def edit_blocks(text: str) -> list[tuple[int, int, str, str]]:
    """The reply's SEARCH/REPLACE blocks, each as (start, end, search text, replacement), in one pass.

    The regular expression this replaces (`SEARCH\n(.*?)\n=======\n(.*?)\n>>>>>>> REPLACE`) tried every later
    separator for every opener: a reply of 48,000 characters of openers and separators took 285 s, and a model's
    reply may hold 131,072. Each block is the leftmost opener, the first separator after it and the first
    closer after that, as the lazy expression read them."""
    blocks = []
    position = 0
    while (start := text.find(_OPEN, position)) >= 0:
        body = start + len(_OPEN)
        separator = text.find(_SEPARATOR, body)
        if separator < 0:
            break
        after = separator + len(_SEPARATOR)
        close = text.find(_CLOSE, after)
        if close < 0:
            break
        end = close + len(_CLOSE)
        blocks.append((start, end, text[body:separator], text[after:close]))
        position = end
    return blocks


def apply_reply(text: str, parent: str, edit: str) -> str:
    """The new source from a reply: SEARCH/REPLACE blocks applied to the parent, or the last code block."""
    blocks = [(search, replace) for _, _, search, replace in edit_blocks(text)]
    if blocks and edit == "diff":
        source = parent
        for search, replace in blocks:
            if search not in source:
                raise ReplyError(f"SEARCH block not found in the kernel: {search[:80]!r}")
            source = source.replace(search, replace, 1)
        return source
    codes = _CODE.findall(text)
    if codes:
        return str(codes[-1])
    if blocks:
        raise ReplyError("SEARCH/REPLACE edits were given but full rewrites were asked for")
    raise ReplyError("the reply has neither a ```c code block nor SEARCH/REPLACE blocks")


class LLMProposer:
    def __init__(
        self,
        task: KernelTask,
        llm: LLM,
        *,
        device: str = "",
        edit: str = "diff",
        samples: int = 1,
        temperature: float = 0.8,
        max_tokens: int = 4096,
        history_size: int = 6,
    ) -> None:
        self.task = task
        self.llm = llm
        self.device = device
        self.edit = edit
        self.samples = samples
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.history_size = history_size
        self.reply_problems: list[str] = []
        self.errors = 0

    def messages(self, parent: Individual, history: Sequence[Individual]) -> list[Message]:
        task = self.task
        tunables = "; ".join(
            f"{name} in {{{', '.join(str(v) for v in values)}}}" for name, values in task.tunables.items()
        )
        recent = [h for h in history if h.index != parent.index][-self.history_size :]
        attempts = "\n\n".join(
            f"attempt {h.index} ({h.note or 'no note'}), parent {h.parent}: {h.evaluation.feedback()}" for h in recent
        )
        problems = "\n".join(self.reply_problems[-3:])
        how = (
            "Reply with one or more blocks\n<<<<<<< SEARCH\n(exact lines of the current kernel)\n=======\n(new lines)\n"
            ">>>>>>> REPLACE\nand a one-line note of what you changed."
            if self.edit == "diff"
            else "Reply with the complete new kernel in one ```c code block and a one-line note of what you changed."
        )
        user = (
            f"Task {task.name}: {task.contract}\nTunables: {tunables or 'none'}.\n"
            f"Device: {self.device or 'unknown'}.\n\n"
            f"Current kernel (attempt {parent.index}):\n```c\n{parent.source}\n```\n"
            f"Its measurement:\n{parent.evaluation.feedback()}\n\n"
            + (f"Recent attempts:\n{attempts}\n\n" if attempts else "")
            + (f"Your previous replies that could not be used:\n{problems}\n\n" if problems else "")
            + f"Propose one faster kernel. {how}"
        )
        return [Message("system", SYSTEM), Message("user", user)]

    def propose(self, parent: Individual, history: Sequence[Individual], rng: Random) -> list[Proposal]:
        messages = self.messages(parent, history)
        proposals: list[Proposal] = []
        for _ in range(self.samples):
            try:
                completion = self.llm.complete(
                    messages,
                    temperature=self.temperature if self.samples > 1 else min(self.temperature, 0.4),
                    max_tokens=self.max_tokens,
                    logprobs=True,
                    seed=rng.randrange(1 << 31),
                )
            except LLMBudgetExceededError as error:
                if proposals:
                    break
                raise ProposerExhaustedError(str(error)) from None
            except LLMError as error:
                self.errors += 1
                if self.errors >= MAX_CONSECUTIVE_ERRORS:
                    raise ProposerExhaustedError(f"the LLM failed {self.errors} times in a row: {error}") from None
                continue
            self.errors = 0
            try:
                source = apply_reply(completion.text, parent.source, self.edit)
            except ReplyError as problem:
                self.reply_problems.append(str(problem))
                continue
            note = _note(completion.text) or f"LLM {self.edit}"
            proposals.append(Proposal(source, note, completion.mean_logprob))
        return proposals


def _note(text: str) -> str:
    kept, position = [], 0
    for start, end, _, _ in edit_blocks(text):
        kept.append(text[position:start])
        position = end
    outside = _CODE.sub("", "".join(kept) + text[position:])
    for raw in outside.splitlines():
        line = raw.strip().strip("#*- ")
        if line:
            return line[:160]
    return ""
