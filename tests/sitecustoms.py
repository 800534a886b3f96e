"""Snippets installed as `sitecustomize.py` in a child process to simulate a broken machine.

Shared by the fault and doctor tests (a file here, not a fixture, so subprocesses can use it).
"""

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
