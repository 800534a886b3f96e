"""Shared test setup: every test gets its own speech cache and user-routine folder."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-golden",
        action="store_true",
        help="Rewrite the expected files of golden tests from the current output.",
    )


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tests away from the user's real cache and routines (and from each other)."""
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("VOICEGUIDE_ROUTINES", str(tmp_path_factory.mktemp("routines")))
    monkeypatch.setenv("VOICEGUIDE_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    # Exported files carry a date tag; pinned, two exports either side of midnight still match.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
