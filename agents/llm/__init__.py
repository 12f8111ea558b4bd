"""LLM clients: the interface, and the OpenAI-compatible backend (any endpoint speaking that API)."""

from agents.llm._base import LLM, Completion, LLMBudgetExceededError, LLMError, Message, Usage
from agents.llm._config import LLMConfig
from agents.llm._json import extract_json
from agents.llm._openai import OpenAIChat, structured_reply
from agents.llm._purpose import call_event, call_purpose, current_purpose, llm_purpose

__all__ = [
    "LLM",
    "Completion",
    "LLMBudgetExceededError",
    "LLMConfig",
    "LLMError",
    "Message",
    "OpenAIChat",
    "Usage",
    "call_event",
    "call_purpose",
    "current_purpose",
    "extract_json",
    "llm_purpose",
    "structured_reply",
]
