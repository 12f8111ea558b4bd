"""A chat client for any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server).

Retries are done here rather than by the SDK so that the policy is explicit and recorded:
rate limits (429, honouring Retry-After), server errors (5xx), timeouts and dropped connections
are retried with exponential backoff; anything else (bad request, auth) fails at once.

A request that carries images goes to the configured vision model, each image re-encoded within
the configured size bounds (`agents.llm._images`); text-only requests go to the text model.
"""

from __future__ import annotations

import base64
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agents.llm._base import Completion, LLMBudgetExceededError, LLMError, Message, ModelT, Usage
from agents.llm._config import LLMConfig
from agents.llm._images import prepare_image
from agents.llm._json import extract_json

UsageHook = Callable[[Completion], None]

STRUCTURED_MODES = ("json_schema", "json_object", "prompt")
"""Ways to ask for a schema-shaped reply, most constrained first: OpenAI's `json_schema`, llama.cpp's
`json_object` with a schema (grammar-constrained sampling), and the schema described in the prompt only."""

MIN_COMPLETION_TOKENS = 32
"""The smallest reply asked for when a budget is nearly spent: enough for a short structured answer."""


class EndpointRefusedError(LLMError):
    """The endpoint answered 4xx: the request itself is wrong for it (an option it does not know, a key)."""

    def __init__(self, message: str, status: int, body: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


def response_format(mode: str, schema: type[ModelT]) -> dict[str, Any] | None:
    """The `response_format` request field for `mode`, or None when the schema goes in the prompt only."""
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema(), "strict": False},
        }
    if mode == "json_object":
        return {"type": "json_object", "schema": schema.model_json_schema()}
    return None


def _refuses_format(error: EndpointRefusedError, probing: bool) -> bool:
    """Whether a refusal is about `response_format` (so the next mode may work), not e.g. the context length."""
    if error.status == 422 or (probing and error.status >= 500):
        return True
    body = error.body.lower()
    return error.status in (400, 404) and any(word in body for word in ("response_format", "json_schema", "schema"))


def _image_part(image: Path | bytes, config: LLMConfig) -> dict[str, Any]:
    media_type, data = prepare_image(image, max_side=config.vision_max_side, max_bytes=config.vision_max_bytes)
    encoded = base64.b64encode(data).decode()
    return {"type": "image_url", "image_url": {"url": f"data:{media_type};base64,{encoded}"}}


def _wire_message(message: Message, config: LLMConfig) -> dict[str, Any]:
    if not message.images:
        return {"role": message.role, "content": message.content}
    parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}]
    parts += [_image_part(image, config) for image in message.images]
    return {"role": message.role, "content": parts}


def _retry_after(error: Exception) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    # The header is the server's word: a negative, NaN or infinite wait falls back to the backoff.
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
"""Control characters (NUL, escape sequences' ESC) a reply may carry into a file, a log or a terminal, and
unpaired UTF-16 surrogates (`\\udc80` in JSON), which no UTF-8 file, log or store can hold: one in a
kernel's comment ended a kernel search with a UnicodeEncodeError, its finished evaluations lost."""

CHARS_PER_TOKEN_BOUND = 32
"""More characters per completion token than any tokenizer yields: a longer reply did not come from
`max_tokens` tokens, and is refused instead of being carried through the run."""


def _count(value: object) -> int:
    """A token count as the endpoint reported it, never negative (a negative count would refund the budget)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _reply_text(content: object) -> str:
    """The reply's text: a string, or the text parts of a list of content parts; control characters removed."""
    if isinstance(content, list):
        content = "".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict) and part.get("type") == "text"
        )
    if not isinstance(content, str):
        return ""
    return _CONTROL.sub("", content)


def _logprobs(choice: Any) -> tuple[float, ...] | None:
    items = getattr(getattr(choice, "logprobs", None), "content", None)
    if not isinstance(items, list):
        return None
    values = []
    for item in items:
        try:
            value = float(getattr(item, "logprob", "nan"))
        except (TypeError, ValueError):
            continue
        if math.isfinite(value):
            values.append(value)
    return tuple(values) or None


class OpenAIChat:
    """Implements the `LLM` protocol over the `openai` SDK."""

    def __init__(self, config: LLMConfig, *, vision: bool = False, on_usage: UsageHook | None = None) -> None:
        import openai

        from agents.llm._deadline import deadline_client

        self.config = config
        self._model = (config.vision_model or config.model) if vision else config.model
        self._usage = Usage()
        self._lock = threading.Lock()
        self.on_usage = on_usage
        self._openai = openai
        configured = config.structured_output
        self._structured_modes = list(STRUCTURED_MODES if configured == "auto" else (configured, "prompt"))
        self._client = openai.OpenAI(
            base_url=config.base_url,
            api_key=config.api_key.get_secret_value() if config.api_key else "not-needed",
            timeout=config.timeout_seconds,
            max_retries=0,
            # The SDK's timeout bounds each read; this bounds the whole reply (`DeadlineTransport`).
            http_client=deadline_client(config.timeout_seconds),
        )

    @property
    def model(self) -> str:
        return self._model

    @property
    def vision_model(self) -> str | None:
        """The model requests with images go to, or None when none is configured."""
        return self.config.vision_model

    def _model_for(self, messages: Sequence[Message]) -> str:
        if self.config.vision_model and any(message.images for message in messages):
            return self.config.vision_model
        return self._model

    @property
    def usage(self) -> Usage:
        return self._usage

    def __repr__(self) -> str:
        return f"OpenAIChat(model={self._model!r}, base_url={self.config.base_url!r})"

    def _check_budget(self) -> None:
        budget = self.config.token_budget
        if budget and self._usage.total_tokens >= budget:
            raise LLMBudgetExceededError(
                f"LLM token budget of {budget} spent ({self._usage.total_tokens} tokens in {self._usage.calls} calls)"
            )

    def _completion_allowance(self, max_tokens: int) -> int:
        """`max_tokens`, but never more than the run's budget has left: one long reply must not overrun the
        budget by thousands of tokens (and minutes of a slow model) before the next check can stop it."""
        budget = self.config.token_budget
        if not budget:
            return max_tokens
        left = budget - self._usage.total_tokens
        return max(MIN_COMPLETION_TOKENS, min(max_tokens, left))

    def _record(self, completion: Completion) -> None:
        with self._lock:
            self._usage.calls += 1
            self._usage.prompt_tokens += completion.prompt_tokens
            self._usage.completion_tokens += completion.completion_tokens
            self._usage.cost += completion.cost
        if self.on_usage is not None:
            self.on_usage(completion)

    def complete(
        self,
        messages: Sequence[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int = 2048,
        logprobs: bool = False,
        seed: int | None = None,
        response_format: dict[str, Any] | None = None,
        structured_mode: str = "",
        probing_format: bool = False,
    ) -> Completion:
        """One chat completion; `response_format` (OpenAI's field) asks the endpoint to constrain the reply.

        `probing_format`: the first request in a structured mode this endpoint has not yet accepted; a
        server error then means the mode, not the server, and is not retried."""
        self._check_budget()
        openai = self._openai
        model = self._model_for(messages)
        request: dict[str, Any] = {
            "model": model,
            "messages": [_wire_message(message, self.config) for message in messages],
            "temperature": temperature,
            "max_tokens": self._completion_allowance(max_tokens),
        }
        if logprobs:
            request["logprobs"] = True
        if seed is not None:
            request["seed"] = seed
        if response_format is not None:
            request["response_format"] = response_format
        retryable = (
            openai.RateLimitError,
            openai.InternalServerError,
            openai.APITimeoutError,
            openai.APIConnectionError,
        )
        attempt = 0
        started = time.monotonic()
        while True:
            try:
                response = self._client.chat.completions.create(**request)
                break
            except retryable as error:
                if probing_format and isinstance(error, openai.InternalServerError):
                    # Some servers (llama-cpp-python) answer an unknown `response_format` with a 500.
                    raise EndpointRefusedError(
                        f"the endpoint failed on the request: HTTP {error.status_code}", error.status_code, ""
                    ) from None
                attempt += 1
                if attempt > self.config.max_retries:
                    raise LLMError(
                        f"{type(error).__name__} from {self.config.base_url} after {attempt} tries"
                    ) from None
                delay = _retry_after(error)
                if delay is None:
                    delay = self.config.backoff_seconds * 2 ** (attempt - 1)
                time.sleep(min(delay, 60.0))
            except openai.APIStatusError as error:
                body = str(getattr(error, "body", "") or getattr(error, "message", ""))[:2000]
                raise EndpointRefusedError(
                    f"the endpoint refused the request: HTTP {error.status_code}", error.status_code, body
                ) from None
            except openai.OpenAIError as error:
                raise LLMError(f"LLM call failed: {type(error).__name__}") from None
            except (ValueError, TypeError, AttributeError) as error:  # a body that is not the API's JSON
                raise LLMError(f"the endpoint's reply is not a chat completion ({type(error).__name__})") from None
        choices = getattr(response, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise LLMError("the endpoint returned no choices")
        choice = choices[0]
        raw_text = getattr(getattr(choice, "message", None), "content", None)
        text = _reply_text(raw_text)
        usage = getattr(response, "usage", None)
        prompt_tokens = _count(getattr(usage, "prompt_tokens", 0))
        completion_tokens = _count(getattr(usage, "completion_tokens", 0))
        # Usage the endpoint leaves out (or reports as zero or less) still counts against the budget:
        # estimated from the characters, about four to a token. Usage it reports is charged at least what
        # the characters prove (no tokenizer packs more than CHARS_PER_TOKEN_BOUND into one): an endpoint
        # reporting one token a call ran ten 20,000-character calls on a budget of 1,000 tokens.
        prompt_chars = sum(len(message.content) for message in messages)
        prompt_tokens = (
            max(prompt_tokens, -(-prompt_chars // CHARS_PER_TOKEN_BOUND)) if prompt_tokens else -(-prompt_chars // 4)
        )
        completion_tokens = (
            max(completion_tokens, -(-len(text) // CHARS_PER_TOKEN_BOUND)) if completion_tokens else -(-len(text) // 4)
        )
        finish_reason = getattr(choice, "finish_reason", None)
        reply_model = getattr(response, "model", None)
        completion = Completion(
            text=text,
            model=reply_model if isinstance(reply_model, str) and reply_model else model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost=self.config.cost(prompt_tokens, completion_tokens),
            token_logprobs=_logprobs(choice),
            finish_reason=finish_reason if isinstance(finish_reason, str) else "",
            structured_mode=structured_mode,
            seconds=time.monotonic() - started,
        )
        self._record(completion)
        longest = CHARS_PER_TOKEN_BOUND * int(request["max_tokens"])
        if len(text) > longest:
            raise LLMError(f"the reply has {len(text)} characters, more than {request['max_tokens']} tokens can hold")
        return completion

    def structured(
        self,
        messages: Sequence[Message],
        schema: type[ModelT],
        *,
        temperature: float = 0.0,
        max_tokens: int = 2048,
        repair_attempts: int = 2,
    ) -> ModelT:
        """Schema-constrained output where the endpoint supports it, else the prompt; the mode that works is kept."""

        def ask(conversation: Sequence[Message]) -> Completion:
            while True:
                mode = self._structured_modes[0]
                probing = mode != "prompt" and mode not in self._usage.structured_modes
                try:
                    completion = self.complete(
                        conversation,
                        temperature=temperature,
                        max_tokens=max_tokens,
                        response_format=response_format(mode, schema),
                        structured_mode=mode,
                        probing_format=probing,
                    )
                except EndpointRefusedError as error:
                    if mode == "prompt" or not _refuses_format(error, probing):
                        raise
                    with self._lock:  # this endpoint does not take this mode: never ask it again
                        if self._structured_modes[0] == mode and len(self._structured_modes) > 1:
                            self._structured_modes.pop(0)
                    continue
                with self._lock:
                    modes = self._usage.structured_modes
                    modes[mode] = modes.get(mode, 0) + 1
                return completion

        return structured_reply(
            self,
            messages,
            schema,
            temperature=temperature,
            max_tokens=max_tokens,
            repair_attempts=repair_attempts,
            ask=ask,
        )


def structured_reply(
    llm: Any,
    messages: Sequence[Message],
    schema: type[ModelT],
    *,
    temperature: float = 0.0,
    max_tokens: int = 2048,
    repair_attempts: int = 2,
    ask: Callable[[Sequence[Message]], Completion] | None = None,
) -> ModelT:
    """Ask for JSON matching `schema`; show the model its own invalid reply and the error, a bounded number of times.

    `ask` sends one conversation (default: `llm.complete`); a client passes its own to constrain the reply."""
    import json

    schema_text = json.dumps(schema.model_json_schema(), separators=(",", ":"))
    conversation = [
        *messages,
        Message("system", f"Reply with one JSON object only, matching this JSON schema: {schema_text}"),
    ]
    problem = ""
    for _ in range(repair_attempts + 1):
        if ask is not None:
            completion = ask(conversation)
        else:
            completion = llm.complete(conversation, temperature=temperature, max_tokens=max_tokens)
        try:
            return schema.model_validate(extract_json(completion.text))
        except (ValueError, ValidationError) as error:
            problem = str(error).splitlines()[0][:500] if not isinstance(error, ValidationError) else _brief(error)
            conversation = [
                *conversation,
                Message("assistant", completion.text[:4000]),
                Message(
                    "user", f"That reply is not valid: {problem}. Reply again with only the corrected JSON object."
                ),
            ]
    raise LLMError(f"no valid {schema.__name__} after {repair_attempts + 1} replies: {problem}")


def _brief(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or '(root)'}: {item['msg']}" for item in error.errors()[:5]
    )
