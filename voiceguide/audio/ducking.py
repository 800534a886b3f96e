"""Ducking: the bed's gain under the voice, scheduled from the timeline rather than detected.

The timeline says in advance when every word starts, so the bed is already down when the first
word begins (no lag, no word over a full bed) and comes back after the last; dips closer together
than a breath are held, so the bed does not pump between the phrases of one sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Float = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

CUE_DUCK_FRACTION = 0.5  # chimes and breath tones duck the bed by half the speech depth (in dB)


@dataclass(frozen=True)
class Duck:
    """Something heard over the bed, in frames: the bed dips by ``depth_db`` under it."""

    start: int
    end: int
    depth_db: float


class DuckEnvelope:
    """The bed's gain under a known list of utterances and cues.

    The timeline says in advance when each word starts, so the dip is *scheduled*, not detected:
    the attack ends exactly at the onset (never a word over a full bed), the release begins at the
    end. Gaps shorter than ``hold_s`` between two dips of the same depth are held down, so the bed
    does not pump between the phrases of one sentence; any longer gap lets it recover fully
    (``hold_s`` >= attack + release).
    """

    def __init__(
        self,
        ducks: Sequence[Duck],
        rate: int,
        *,
        attack_s: float = 0.35,
        release_s: float = 0.9,
        hold_s: float = 1.5,
    ) -> None:
        self.rate = rate
        self.attack = max(1, round(attack_s * rate))
        self.release = max(1, round(release_s * rate))
        hold = max(round(hold_s * rate), self.attack + self.release)
        merged: list[Duck] = []
        for depth in sorted({d.depth_db for d in ducks if d.depth_db > 0 and d.end > d.start}):
            group = sorted(
                (d for d in ducks if d.depth_db == depth and d.end > d.start), key=lambda d: d.start
            )
            cur = group[0]
            for d in group[1:]:
                if d.start - cur.end < hold:
                    cur = Duck(cur.start, max(cur.end, d.end), depth)
                else:
                    merged.append(cur)
                    cur = d
            merged.append(cur)
        merged.sort(key=lambda d: d.start)
        self.ducks = tuple(merged)
        self._lo = np.array([d.start - self.attack for d in merged], dtype=np.int64)
        self._hi = np.array([d.end + self.release for d in merged], dtype=np.int64)
        # Frame k of the attack (release) sits at (k + 0.5) / length of the way down (up).
        self._attack_curve = 0.5 - 0.5 * np.cos(np.pi * (np.arange(self.attack) + 0.5) / self.attack)
        self._release_curve = 0.5 + 0.5 * np.cos(np.pi * (np.arange(self.release) + 0.5) / self.release)
        self._gain_cache: dict[float, tuple[Float, Float, Float]] = {}

    def attenuation_db(self, start: int, n: int) -> F64:
        """How far below its set level the bed is, for each frame of ``[start, start + n)``.

        Each dip is a raised-cosine attack, a flat stretch and a raised-cosine release; the two
        curves are worked out once (they are the same for every dip), so a block costs a few
        slice maxima instead of a cosine per frame."""
        out = np.zeros(n)
        end = start + n
        for i in np.nonzero((self._lo < end) & (self._hi > start))[0]:
            d = self.ducks[int(i)]
            for (lo, hi), curve in zip(
                self._spans(d), (self._attack_curve, None, self._release_curve), strict=True
            ):
                a, b = max(lo, start), min(hi, end)
                if a >= b:
                    continue
                view = out[a - start : b - start]
                level = d.depth_db if curve is None else d.depth_db * curve[a - lo : b - lo]
                np.maximum(view, level, out=view)
        return out

    def apply(self, samples: Float, start: int) -> None:
        """Duck ``samples`` (frames from ``start``) in place; blocks with no dip are not touched."""
        n = samples.shape[0]
        hits = np.nonzero((self._lo < start + n) & (self._hi > start))[0]
        if hits.size == 0:
            return
        if hits.size == 1 or not bool(
            np.any(self._lo[hits[1:]] < np.maximum.accumulate(self._hi[hits])[:-1])
        ):
            self._apply_apart(samples, start, hits)
            return
        lo = max(int(np.min(self._lo[hits])), start)
        hi = min(int(np.max(self._hi[hits])), start + n)
        att = self.attenuation_db(lo, hi - lo)
        samples[lo - start : hi - start] *= np.power(10.0, -att / 20.0).astype(np.float32)

    def _apply_apart(self, samples: Float, start: int, hits: npt.NDArray[np.intp]) -> None:
        """:meth:`apply` where no two dips overlap (nearly always): each frame's gain is one dip's,
        read from that depth's curves, worked out once with the very operations ``apply`` uses
        (so the same float32 gains), instead of a power of ten per frame."""
        end = start + samples.shape[0]
        for i in hits.tolist():
            d = self.ducks[i]
            for (lo, hi), gains in zip(self._spans(d), self._gains(d.depth_db), strict=True):
                a, b = max(lo, start), min(hi, end)
                if a < b:
                    samples[a - start : b - start] *= gains if gains.shape[0] == 1 else gains[a - lo : b - lo]

    def _spans(self, d: Duck) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        """A dip's attack, flat stretch and release, as frame ranges."""
        return (d.start - self.attack, d.start), (d.start, d.end), (d.end, d.end + self.release)

    def _gains(self, depth_db: float) -> tuple[Float, Float, Float]:
        got = self._gain_cache.get(depth_db)
        if got is None:
            levels = (depth_db * self._attack_curve, np.full(1, depth_db), depth_db * self._release_curve)
            attack, flat, release = (
                np.power(10.0, -np.maximum(np.zeros(x.shape[0]), x) / 20.0).astype(np.float32) for x in levels
            )
            got = self._gain_cache[depth_db] = (attack, flat, release)
        return got

    def gain(self, start: int, n: int) -> F64:
        return np.power(10.0, -self.attenuation_db(start, n) / 20.0)
