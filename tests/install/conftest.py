"""Fixtures for install tests: a fresh real venv per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.install import Venv, create_venv


@pytest.fixture
def venv(tmp_path: Path) -> Venv:
    return create_venv(tmp_path / "venv")
