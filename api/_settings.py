"""Configuration, read once at the front door from LABGATE_* variables, then passed down as objects."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agents import RunLauncher
from agents.llm import LLMConfig
from api._terminal import printable
from runs import LabgateError, RunStore
from tools import Catalog, WorkloadsOnDemand
from verifiers import validate_gate_options


class SettingsError(LabgateError, ValueError):
    """The configuration is incomplete or contradictory; the message names the variable."""


MIN_TOKEN_LENGTH = 16
"""Shortest LABGATE_API_TOKEN a server accepts: short enough to type, long enough not to be guessed."""

_TOKEN_EXAMPLE = "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"


def token_problem(token: str) -> str | None:
    """Why a client could never present `token` in an HTTP header, or None when it can.

    A header carries ASCII: a server decodes its bytes as Latin-1, so a token holding `ä` never
    matched the same `ä` sent by a client (401 forever), and one holding a byte that is not UTF-8
    (kept by Python as a lone surrogate) failed every request that carried a token with a 500.
    Header values lose their outer spaces, so a token starting or ending with one never matched either.
    The character's position is named, never the character: the message must not quote the secret.
    """
    for position, char in enumerate(token, start=1):
        if not " " <= char <= "~":
            return f"holds a character that is not printable ASCII (character {position} of {len(token)})"
    if token != token.strip():
        return "starts or ends with a space, which an HTTP header drops"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LABGATE_", extra="ignore")

    home: Path = Field(default=Path("labgate-data"), description="database, artifacts and run folders")
    database_url: str | None = Field(default=None, description="any SQLAlchemy URL; default SQLite in home")
    max_workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256)
    executor: str = Field(default="local", pattern="^(local|ray)$", description="where experiments run")
    ray_address: str | None = Field(
        default=None, description="'auto', 'ray://host:port', or empty for a local Ray instance"
    )
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1"
    )
    llm_model: str | None = None
    llm_vision_model: str | None = Field(
        default=None, description="model for figures (vision gate); unset = no vision model, offline checks only"
    )
    llm_vision_max_side: int = Field(default=1568, ge=64, le=8192, description="longest side of a figure sent, px")
    llm_vision_max_bytes: int = Field(default=3_750_000, ge=16_384, description="largest figure sent, bytes")
    llm_timeout_seconds: float = Field(default=120.0, gt=0)
    llm_max_retries: int = Field(default=4, ge=0, le=20)
    llm_token_budget: int = Field(default=0, ge=0, description="default per-run token budget; 0 = unlimited")
    llm_prompt_price_per_million: float = Field(default=0.0, ge=0)
    llm_completion_price_per_million: float = Field(default=0.0, ge=0)
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "LABGATE_LLM_API_KEY")
    )
    api_token: SecretStr | None = Field(
        default=None, description="bearer token the REST API requires for every mutating call; unset = none"
    )
    protect_reads: bool = Field(
        default=False, description="require LABGATE_API_TOKEN for every page and GET too, not only for POST"
    )
    run_workers: int = Field(
        default=2, ge=0, le=64, description="runs `agent serve` executes at once; 0 = only queue them"
    )
    max_body_bytes: int = Field(default=1 << 20, ge=1024, description="largest request body the API accepts")
    auth_failures_per_minute: int = Field(
        default=10, ge=1, le=100_000, description="failed authentications an address may make per minute before 429"
    )

    @field_validator("home", mode="before")
    @classmethod
    def _blank_home_is_the_default(cls, value: object) -> object:
        """An empty LABGATE_HOME= (a shell's `export LABGATE_HOME=$UNSET_VAR`) is no setting, not the current folder.

        Taken as a path it named `.`: the database and run folders landed loose in whatever folder the
        command ran from, while the proof memory, which reads the variable itself, went to ./labgate-data.
        """
        if isinstance(value, str) and not value.strip():
            return Path("labgate-data")
        return value

    @field_validator("api_token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        """An empty LABGATE_API_TOKEN= is no token at all, never a token that matches an empty header."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    def serving_token(self) -> str | None:
        """The API token, checked fit to guard a server: long enough, printable ASCII, and present when reads
        are protected.

        Raises:
            SettingsError: the token is shorter than `MIN_TOKEN_LENGTH`, holds what no HTTP header can carry
                (`token_problem`), or reads are protected without one.
        """
        token = self.api_token.get_secret_value() if self.api_token else None
        if token is None and self.protect_reads:
            raise SettingsError("LABGATE_PROTECT_READS is set but LABGATE_API_TOKEN is not: set a token")
        if token is not None and len(token) < MIN_TOKEN_LENGTH:
            raise SettingsError(
                f"LABGATE_API_TOKEN has {len(token)} characters; a token guarding a server needs at least "
                f"{MIN_TOKEN_LENGTH} ({_TOKEN_EXAMPLE})"
            )
        problem = None if token is None else token_problem(token)
        if problem is not None:
            raise SettingsError(f"LABGATE_API_TOKEN {problem}; no client could present it ({_TOKEN_EXAMPLE})")
        return token

    def llm_config(self) -> LLMConfig | None:
        """The endpoint configuration, or None when no endpoint is set (the built-in policy is used)."""
        if not self.llm_base_url:
            return None
        if not self.llm_model:
            raise SettingsError("LABGATE_LLM_BASE_URL is set but LABGATE_LLM_MODEL is not: name the model to use")
        return LLMConfig(
            base_url=self.llm_base_url,
            model=self.llm_model,
            vision_model=self.llm_vision_model,
            vision_max_side=self.llm_vision_max_side,
            vision_max_bytes=self.llm_vision_max_bytes,
            api_key=self.openai_api_key,
            timeout_seconds=self.llm_timeout_seconds,
            max_retries=self.llm_max_retries,
            token_budget=self.llm_token_budget,
            prompt_price_per_million=self.llm_prompt_price_per_million,
            completion_price_per_million=self.llm_completion_price_per_million,
        )


SQLITE_MAX_PATH_BYTES = 512
"""The longest file path SQLite's Unix layer opens (its `mxPathname`); longer, it says only "unable to open"."""
_SQLITE_SUFFIX = "-journal"  # the longest name SQLite derives from the database's (the rollback journal)
_SQLITE_DATABASE = "labgate.db"  # the file RunStore opens under its home when no LABGATE_DATABASE_URL is set


def build_store(settings: Settings) -> RunStore:
    """The run store under LABGATE_HOME; a home too deep for SQLite's path limit is refused by name.

    A store that can only be read (read-only media, a backup snapshot) opens for reading, and is named so
    on stderr once, when it opens: every command that writes to it then fails.
    """
    home = settings.home.expanduser().resolve()
    if settings.database_url is None:
        database = os.fsencode(home / _SQLITE_DATABASE) + _SQLITE_SUFFIX.encode()
        if len(database) > SQLITE_MAX_PATH_BYTES:
            raise SettingsError(
                f"LABGATE_HOME is {len(os.fsencode(home))} bytes long; SQLite cannot open a database under a "
                f"folder that deep (its paths stop at {SQLITE_MAX_PATH_BYTES} bytes): choose a shorter folder, "
                "or set LABGATE_DATABASE_URL"
            )
    store = RunStore(home, settings.database_url)
    if store.read_only:
        print(
            printable(
                f"labgate: note: the run store {home} cannot be written (read-only media, or no permission): "
                "it is open for reading only, and commands that write to it will fail"
            ),
            file=sys.stderr,
        )
    return store


def build_catalog(settings: Settings) -> Catalog:
    """Every installed workload (`labgate.workloads` entry points), each configured by its own settings.

    `settings` holds labgate's own configuration only: a workload reads its variables (LABGATE_COQC,
    LABGATE_OPENFOAM_BIN_DIR, ...) through its `Settings` model. A workload whose plugin is broken is
    left out and named, with the reason, when one of its tasks is asked for.
    """
    workloads = WorkloadsOnDemand()
    return Catalog(workloads, gate_options=validate_gate_options, unavailable=workloads.problems)


def build_launcher(settings: Settings) -> RunLauncher:
    return RunLauncher(
        build_store(settings), build_catalog(settings), settings.llm_config(), ray_address=settings.ray_address or None
    )
