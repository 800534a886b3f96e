"""Shared by the benchmarks: measure voiceguide as installed, not the bytecode compiler."""

from __future__ import annotations

import compileall
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def compile_bytecode() -> None:
    """Byte-compile voiceguide as pip does when it installs the package.

    A source checkout is otherwise compiled on its first run and the bytecode kept, unless
    PYTHONDONTWRITEBYTECODE is set (some sandboxes and containers set it): then every run would
    recompile each module, and start-up timings would measure the compiler, not voiceguide.
    """
    compileall.compile_dir(str(REPO / "voiceguide"), quiet=1)
