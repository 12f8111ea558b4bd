"""The OpenAI-compatible client against a real HTTP server speaking that API."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from pydantic import BaseModel, SecretStr

from agents.llm import LLMBudgetExceededError, LLMConfig, LLMError, Message, OpenAIChat
from tests.llm_server import Reply, Rule, ScriptedLLMServer


def client(server: ScriptedLLMServer, **overrides: object) -> OpenAIChat:
    settings: dict[str, object] = {
        "base_url": server.url,
        "model": "scripted-model",
        "api_key": SecretStr("sk-test-secret"),
        "backoff_seconds": 0.01,
        "timeout_seconds": 5,
        **overrides,
    }
    return OpenAIChat(LLMConfig.model_validate(settings))


def test_completion_accounts_usage_and_sends_the_key_only_in_the_header() -> None:
    with ScriptedLLMServer(
        [Rule("hello", [Reply(content="hi there", prompt_tokens=20, completion_tokens=5)])]
    ) as server:
        llm = client(server, prompt_price_per_million=1.0, completion_price_per_million=2.0)
        completion = llm.complete([Message("user", "hello")])
        assert completion.text == "hi there"
        assert (completion.prompt_tokens, completion.completion_tokens) == (20, 5)
        assert completion.cost == pytest.approx((20 * 1 + 5 * 2) / 1e6)
        assert llm.usage.calls == 1 and llm.usage.total_tokens == 25
        request = server.requests[0]
        headers = {name.lower(): value for name, value in request["headers"].items()}
        assert headers["authorization"] == "Bearer sk-test-secret"
        assert "sk-test-secret" not in str(request["body"])
        assert "sk-test-secret" not in repr(llm) and "sk-test-secret" not in repr(llm.config)


def test_rate_limit_is_retried_honouring_retry_after() -> None:
    replies = [Reply(status=429, headers={"Retry-After": "0.2"}), Reply(content="ok")]
    with ScriptedLLMServer([Rule("go", replies)]) as server:
        llm = client(server)
        start = time.monotonic()
        assert llm.complete([Message("user", "go")]).text == "ok"
        assert time.monotonic() - start >= 0.2
        assert len(server.requests) == 2


def test_server_errors_are_retried_then_give_up() -> None:
    with ScriptedLLMServer([Rule("go", [Reply(status=503), Reply(status=500), Reply(content="fine")])]) as server:
        assert client(server).complete([Message("user", "go")]).text == "fine"
        assert len(server.requests) == 3
    with ScriptedLLMServer([Rule("go", [Reply(status=502)])]) as server:
        with pytest.raises(LLMError, match="after 3 tries"):
            client(server, max_retries=2).complete([Message("user", "go")])
        assert len(server.requests) == 3


def test_timeout_is_retried() -> None:
    with ScriptedLLMServer([Rule("slow", [Reply(content="late", delay=2.0), Reply(content="quick")])]) as server:
        llm = client(server, timeout_seconds=0.5)
        assert llm.complete([Message("user", "slow")]).text == "quick"
        assert len(server.requests) == 2


def test_client_errors_fail_at_once() -> None:
    with ScriptedLLMServer([Rule("go", [Reply(status=401)])]) as server:
        with pytest.raises(LLMError, match="HTTP 401"):
            client(server).complete([Message("user", "go")])
        assert len(server.requests) == 1


class Plan(BaseModel):
    task: str
    reynolds: list[int]


def test_malformed_json_is_repaired_within_bounds() -> None:
    replies = [
        Reply(content="Sure! {task: cavity,"),
        Reply(content='```json\n{"task": "cfd/cavity", "reynolds": [100]}\n```'),
    ]
    with ScriptedLLMServer([Rule("plan", replies)]) as server:
        plan = client(server).structured([Message("user", "plan it")], Plan)
        assert plan == Plan(task="cfd/cavity", reynolds=[100])
        assert len(server.requests) == 2
        second = server.requests[1]["body"]["messages"]
        assert "not valid" in second[-1]["content"] and second[-2]["content"].startswith("Sure!")


def test_schema_violations_are_repaired_and_bounded() -> None:
    with ScriptedLLMServer([Rule("plan", [Reply(content='{"task": "cfd/cavity", "reynolds": "many"}')])]) as server:
        with pytest.raises(LLMError, match="no valid Plan after 3 replies"):
            client(server).structured([Message("user", "plan it")], Plan, repair_attempts=2)
        assert len(server.requests) == 3
        assert "reynolds" in server.requests[1]["body"]["messages"][-1]["content"]


def test_images_are_sent_as_data_urls(tmp_path: Path) -> None:
    import io

    import numpy as np
    from PIL import Image

    image = tmp_path / "field.png"
    pixels = np.arange(12 * 8 * 3, dtype=np.uint8).reshape(8, 12, 3)
    Image.fromarray(pixels).save(image)
    with ScriptedLLMServer([Rule("look", [Reply(content='{"decision": "accept"}')])]) as server:
        llm = OpenAIChat(LLMConfig(base_url=server.url, model="text", vision_model="vision-model"), vision=True)
        llm.complete([Message("user", "look at this", images=(image,))])
        body = server.requests[0]["body"]
        assert body["model"] == "vision-model"
        parts = body["messages"][0]["content"]
        assert parts[0] == {"type": "text", "text": "look at this"}
        url = parts[1]["image_url"]["url"]
        assert url.startswith("data:image/png;base64,")
        with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as sent:
            assert np.array_equal(np.asarray(sent), pixels)  # re-encoded, same pixels


def test_token_budget_stops_further_calls() -> None:
    with ScriptedLLMServer([Rule("go", [Reply(content="a", prompt_tokens=60, completion_tokens=50)])]) as server:
        llm = client(server, token_budget=100)
        llm.complete([Message("user", "go")])
        with pytest.raises(LLMBudgetExceededError, match="budget of 100 spent"):
            llm.complete([Message("user", "go")])
        assert len(server.requests) == 1


def test_a_call_never_asks_for_more_tokens_than_the_budget_has_left() -> None:
    reply = Reply(content="a", prompt_tokens=300, completion_tokens=400)
    with ScriptedLLMServer([Rule("go", [reply, reply, reply])]) as server:
        llm = client(server, token_budget=1000)
        llm.complete([Message("user", "go")], max_tokens=4096)
        llm.complete([Message("user", "go")], max_tokens=4096)
        asked = [request["body"]["max_tokens"] for request in server.requests]
        assert asked == [1000, 300]  # the whole budget, then what the first call left
    with ScriptedLLMServer([Rule("go", [reply])]) as server:
        client(server).complete([Message("user", "go")], max_tokens=4096)
        assert server.requests[0]["body"]["max_tokens"] == 4096  # no budget, no clipping


def test_token_logprobs_are_returned() -> None:
    with ScriptedLLMServer([Rule("go", [Reply(content="x", logprobs=[-0.1, -0.5, -2.4])])]) as server:
        completion = client(server).complete([Message("user", "go")], logprobs=True)
        assert server.requests[0]["body"]["logprobs"] is True
        assert completion.token_logprobs == (-0.1, -0.5, -2.4)
        assert completion.mean_logprob == pytest.approx(-1.0)


class Pick(BaseModel):
    name: str
    value: float


def test_structured_output_uses_the_schema_and_falls_back_to_what_the_endpoint_takes() -> None:
    """json_schema refused (422) -> json_object with the schema; the mode that worked is kept and counted."""
    replies = [
        Reply(status=422),
        Reply(content='{"name": "a", "value": 1}'),
        Reply(content='{"name": "b", "value": 2}'),
    ]
    with ScriptedLLMServer([Rule("pick", replies)]) as server:
        llm = client(server)
        assert llm.structured([Message("user", "pick one")], Pick) == Pick(name="a", value=1)
        assert llm.structured([Message("user", "pick again")], Pick) == Pick(name="b", value=2)
        formats = [request["body"].get("response_format") for request in server.requests]
        assert [f["type"] for f in formats] == ["json_schema", "json_object", "json_object"]
        assert formats[0]["json_schema"]["schema"] == Pick.model_json_schema()
        assert formats[1]["schema"] == Pick.model_json_schema()
        assert llm.usage.structured_modes == {"json_object": 2}
        assert llm.usage.calls == 2  # the refused request cost nothing


def test_structured_output_falls_back_to_the_prompt_and_still_repairs() -> None:
    replies = [
        Reply(status=422),
        Reply(status=422),
        Reply(content="no json here"),
        Reply(content='{"name":"c","value":3}'),
    ]
    with ScriptedLLMServer([Rule("pick", replies)]) as server:
        llm = client(server)
        assert llm.structured([Message("user", "pick one")], Pick) == Pick(name="c", value=3)
        assert "response_format" not in server.requests[-1]["body"]
        assert llm.usage.structured_modes == {"prompt": 2}


def test_a_refusal_that_is_not_about_the_format_is_not_a_fallback() -> None:
    with ScriptedLLMServer([Rule("pick", [Reply(status=401)])]) as server:
        with pytest.raises(LLMError, match="HTTP 401"):
            client(server).structured([Message("user", "pick")], Pick)
        assert len(server.requests) == 1


def test_structured_output_can_be_pinned_to_the_prompt() -> None:
    with ScriptedLLMServer([Rule("pick", [Reply(content='{"name":"d","value":4}')])]) as server:
        llm = client(server, structured_output="prompt")
        assert llm.structured([Message("user", "pick")], Pick).name == "d"
        assert "response_format" not in server.requests[0]["body"]


def test_a_server_error_on_an_untried_format_means_the_format_and_later_ones_are_retried() -> None:
    """llama-cpp-python answers an unknown response_format with HTTP 500: no retries while probing it."""
    replies = [
        Reply(status=500),
        Reply(content='{"name": "a", "value": 1}'),
        Reply(status=500),
        Reply(content='{"name": "b", "value": 2}'),
    ]
    with ScriptedLLMServer([Rule("pick", replies)]) as server:
        llm = client(server)
        assert llm.structured([Message("user", "pick")], Pick).name == "a"
        assert llm.structured([Message("user", "pick")], Pick).name == "b"  # the 500 retried: json_object works here
        types = [request["body"]["response_format"]["type"] for request in server.requests]
        assert types == ["json_schema", "json_object", "json_object", "json_object"]
        assert llm.usage.structured_modes == {"json_object": 2}
