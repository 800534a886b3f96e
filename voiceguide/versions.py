"""Installed versions of the libraries whose output we cache, read cheaply."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path


def dist_version(dist: str, module: str | None = None) -> str | None:
    """The installed version of distribution ``dist`` (None when it is not installed).

    With ``module`` (the name it imports as), it is read from the ``.dist-info`` beside that
    module: every warm export needs the engine's version for the cache key, and importing
    importlib.metadata alone costs ~10 ms. importlib.metadata stays the fallback."""
    if module is not None:
        import importlib.util

        spec = importlib.util.find_spec(module)
        if spec is not None and spec.origin:
            site = Path(spec.origin).parent.parent
            stem = re.sub(r"[-_.]+", "_", dist).lower()  # how wheels name their .dist-info
            found = list(site.glob(f"{stem}-*.dist-info/METADATA"))
            if len(found) == 1:
                with contextlib.suppress(OSError), found[0].open(encoding="utf-8") as meta:
                    for line in meta:
                        if line.startswith("Version:"):
                            return line.partition(":")[2].strip()
                        if not line.strip():
                            break  # end of the headers
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None
