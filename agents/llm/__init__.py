"""LLM clients: the interface, and the OpenAI-compatible backend (any endpoint speaking that API)."""

from agents.llm._base import LLM, Completion, LLMBudgetExceededError, LLMError, Message, Usage

__all__ = ["LLM", "Completion", "LLMBudgetExceededError", "LLMError", "Message", "Usage"]
