"""LLM clients: the interface, and the OpenAI-compatible backend (any endpoint speaking that API)."""

from agents.llm._base import LLM, Completion, LLMBudgetExceededError, LLMError, Message, Usage
from agents.llm._config import LLMConfig
from agents.llm._json import extract_json
from agents.llm._openai import OpenAIChat, structured_reply

__all__ = [
    "LLM",
    "Completion",
    "LLMBudgetExceededError",
    "LLMConfig",
    "LLMError",
    "Message",
    "OpenAIChat",
    "Usage",
    "extract_json",
    "structured_reply",
]
