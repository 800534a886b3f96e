"""``python -m voiceguide`` runs the command line."""

from voiceguide._entry import entry

entry()
