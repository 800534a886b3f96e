"""Snippets installed as `sitecustomize.py` in a child process to simulate a broken machine.

Shared by the fault, doctor and natural-voice tests (a file here, not a fixture, so subprocesses
can use it). Snippets can be joined: each only acts when its environment variable is set.
"""

from __future__ import annotations

from pathlib import Path


def site_folder(folder: Path, *snippets: str) -> Path:
    """A folder holding a ``sitecustomize.py`` made of ``snippets``: put it on a child's
    PYTHONPATH and the snippets run before the program does."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text("\n".join(snippets), encoding="utf-8")
    return folder

# Sitecustomize that makes the espeak-ng shared library look uninstalled: every way pyttsx3 and
# voiceguide look for it (ctypes.CDLL, cdll.LoadLibrary, ctypes.util.find_library) fails.
HIDE_ESPEAK = '''\
import ctypes
import ctypes.util

_real_init = ctypes.CDLL.__init__
_real_find = ctypes.util.find_library


def _init(self, name, *args, **kwargs):
    if name is not None and "espeak" in str(name).lower():
        raise OSError(f"{name}: cannot open shared object file: No such file or directory")
    _real_init(self, name, *args, **kwargs)


def _find(name):
    return None if "espeak" in name.lower() else _real_find(name)


ctypes.CDLL.__init__ = _init
ctypes.util.find_library = _find
'''


# Sitecustomize that presses Ctrl-C while a given module is being imported (program start-up):
# the module named by VOICEGUIDE_TEST_SIGINT_ON_IMPORT.
SIGINT_ON_IMPORT = '''\
import importlib.abc
import os
import signal
import sys

_TARGET = os.environ.get("VOICEGUIDE_TEST_SIGINT_ON_IMPORT")


class _Interrupter(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == _TARGET:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None


if _TARGET:
    sys.meta_path.insert(0, _Interrupter())
'''


# Sitecustomize that makes the module named by VOICEGUIDE_TEST_HIDE_MODULE look uninstalled.
HIDE_MODULE = '''\
import os
import sys

_HIDE = os.environ.get("VOICEGUIDE_TEST_HIDE_MODULE")
if _HIDE:
    sys.modules[_HIDE] = None  # as if the package were not installed
'''
