"""What an export can be written as: light enough for the command line to read at start-up."""

from __future__ import annotations

SAMPLE_RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000)
