"""``python -m voiceguide`` runs the command line."""

from .cli import entry

entry()
