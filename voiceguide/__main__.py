"""``python -m voiceguide`` runs the command line."""

from ._entry import entry

entry()
