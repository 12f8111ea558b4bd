"""Configuration, read once at the front door from LABGATE_* variables, then passed down as objects."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from agents import RunLauncher
from runs import RunStore
from tools import Catalog
from tools.cfd import CfdWorkload, OpenFOAMConfig
from tools.kernels import KernelsWorkload


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LABGATE_", extra="ignore")

    home: Path = Field(default=Path("labgate-data"), description="database, artifacts and run folders")
    database_url: str | None = Field(default=None, description="any SQLAlchemy URL; default SQLite in home")
    openfoam_bin_dir: Path = Path("/usr/bin")
    openfoam_project_dir: Path = Path("/usr/share/openfoam")
    max_workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256)
    llm_base_url: str | None = None
    llm_model: str | None = None


def build_store(settings: Settings) -> RunStore:
    return RunStore(settings.home.expanduser().resolve(), settings.database_url)


def build_catalog(settings: Settings) -> Catalog:
    openfoam = OpenFOAMConfig(bin_dir=settings.openfoam_bin_dir, project_dir=settings.openfoam_project_dir)
    return Catalog([CfdWorkload(openfoam), KernelsWorkload()])


def build_launcher(settings: Settings) -> RunLauncher:
    return RunLauncher(build_store(settings), build_catalog(settings))
