"""The LLM interface every proposer, planner and vision gate talks to.

Two kinds of implementation: an OpenAI-compatible endpoint (`agents.llm.OpenAIChat`), and none at
all: when no endpoint is configured, callers receive `None` and use their workload's built-in
deterministic policy instead. Nothing here may send a key to a sandbox, a log or an artifact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel

from runs import LabgateError

Role = Literal["system", "user", "assistant"]
ModelT = TypeVar("ModelT", bound=BaseModel)


class LLMError(LabgateError, RuntimeError):
    """The endpoint failed after retries, or answered with something unusable."""


class LLMBudgetExceededError(LLMError):
    """The run's token budget is spent; the run stops cleanly instead of calling again."""


@dataclass(frozen=True)
class Message:
    role: Role
    content: str
    images: tuple[Path | bytes, ...] = ()
    """Figures to show the model: files, or bytes already read (an image from an experiment directory)."""


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    token_logprobs: tuple[float, ...] | None = None
    finish_reason: str = ""
    structured_mode: str = ""
    """How a structured reply was asked for: "json_schema" or "json_object" (the endpoint constrained
    the output to the schema), "prompt" (the schema was only described in the prompt), "" for plain text."""
    seconds: float = 0.0
    """Wall time of the request, retries included."""

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def mean_logprob(self) -> float | None:
        """Average token log-probability: low values mark a sample the model was unsure of."""
        if not self.token_logprobs:
            return None
        return sum(self.token_logprobs) / len(self.token_logprobs)


@dataclass
class Usage:
    """Running totals for one run, shared by every caller that uses the same client."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    history: list[str] = field(default_factory=list)
    structured_modes: dict[str, int] = field(default_factory=dict)
    """Structured replies per mode ("json_schema", "json_object", "prompt"): which one the endpoint took."""

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class LLM(Protocol):
    """A chat model. Implementations account usage and enforce the token budget themselves."""

    @property
    def model(self) -> str: ...

    @property
    def usage(self) -> Usage: ...

    def complete(
        self,
        messages: Sequence[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int = 2048,
        logprobs: bool = False,
        seed: int | None = None,
    ) -> Completion:
        """One chat completion; raises LLMError / LLMBudgetExceededError."""
        ...

    def structured(
        self,
        messages: Sequence[Message],
        schema: type[ModelT],
        *,
        temperature: float = 0.0,
        max_tokens: int = 2048,
        repair_attempts: int = 2,
    ) -> ModelT:
        """A reply validated against `schema`; invalid JSON is sent back for repair a bounded number of times."""
        ...
