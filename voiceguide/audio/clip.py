"""The one audio value every stage passes around: int16 samples at a known rate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voiceguide.units import US


@dataclass(frozen=True, eq=False)
class Clip:
    """Trimmed speech or a loaded sound."""

    samples: npt.NDArray[np.int16]  # int16, shape (n,) mono or (n, 2) stereo
    sample_rate: int

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def channels(self) -> int:
        return 1 if self.samples.ndim == 1 else int(self.samples.shape[1])

    @property
    def duration_us(self) -> int:
        """Exact length on the session clock (rounded to the microsecond)."""
        return (self.frames * US + self.sample_rate // 2) // self.sample_rate


def empty_clip(rate: int = 22050) -> Clip:
    return Clip(np.zeros(0, dtype=np.int16), rate)
