"""Endpoint settings for the OpenAI-compatible client; the key is a secret that never prints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class LLMConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str
    model: str
    vision_model: str | None = Field(
        default=None, description="the model every request carrying images goes to; None = no vision model"
    )
    vision_max_side: int = Field(default=1568, ge=64, le=8192, description="longest side of an image sent, px")
    vision_max_bytes: int = Field(default=3_750_000, ge=16_384, description="largest encoded image sent, bytes")
    api_key: SecretStr | None = None
    timeout_seconds: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=4, ge=0, le=20)
    backoff_seconds: float = Field(default=1.0, ge=0)
    token_budget: int = Field(default=0, ge=0, description="tokens per run; 0 = unlimited")
    prompt_price_per_million: float = Field(default=0.0, ge=0)
    completion_price_per_million: float = Field(default=0.0, ge=0)
    structured_output: Literal["auto", "json_schema", "json_object", "prompt"] = Field(
        default="auto",
        description="how structured replies are asked for: auto tries the endpoint's schema-constrained "
        "output (json_schema, then json_object with a schema) and falls back to the prompt alone",
    )

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.prompt_price_per_million + completion_tokens * self.completion_price_per_million
        ) / 1e6
