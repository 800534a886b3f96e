"""The finished sound of a session: the rendered voice and cues, the ambience under them, one gain
to the loudness target and a true-peak limiter, streamed block by block.

Normalising needs the whole session's loudness before the first sample goes out, so it is two
passes: :meth:`Master.measure` meters the mix (K-weighting only, no oversampling), then
:meth:`Master.blocks` renders it again at the gain that meets the target. The measurement depends
only on what is rendered, so it is kept under :meth:`Master.digest` (a hash of every placed clip's
samples, the event frames and the ambience) and a warm re-export renders once.

Without ambience and with normalisation off the blocks are exactly the renderer's; every range
``[start_us, end_us)`` renders the frames a whole render has there, except that a range that is
not the whole session (a split file) fades its stretch of the bed in and out over
:data:`EDGE_FADE_S`, so each file starts and ends without a click.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from voiceguide.audio.ambience import AmbienceTrack, mix_under
from voiceguide.audio.loudness import (
    DEFAULT_CEILING_DBTP,
    MAX_GAIN_DB,
    LoudnessMeter,
    LoudnessReport,
    NeedLog,
    limited_int16,
)
from voiceguide.audio.render import Renderer

Block = npt.NDArray[np.int16]
F64 = npt.NDArray[np.float64]

EDGE_FADE_S = 0.1
LIMITER_PREROLL_US = 3_000_000  # the limiter's release (150 ms) has long run out by then
VERSION = 2  # of the beds, the mix, the meter and the limiter: a change makes old measurements stale


class NeedStore(Protocol):
    """Where the limiter's findings for a stream are kept between exports (see :class:`NeedLog`)."""

    def load(self, key: str) -> NeedLog | None: ...

    def save(self, key: str, log: NeedLog) -> None: ...

    def drop(self, key: str) -> None: ...


@dataclass(frozen=True)
class Measured:
    """The loudness of the mix before any gain, and the gain that meets the target."""

    integrated_lufs: float
    range_lu: float

    def gain_db(self, target_lufs: float) -> float:
        if not math.isfinite(self.integrated_lufs):
            return 0.0
        return max(-MAX_GAIN_DB, min(MAX_GAIN_DB, target_lufs - self.integrated_lufs))


class Master:
    """A renderer's blocks with the ambience mixed under them, then gain and limiter."""

    def __init__(
        self,
        renderer: Renderer,
        track: AmbienceTrack | None = None,
        *,
        gain_db: float = 0.0,
        limit: bool = False,
        ceiling_dbtp: float = DEFAULT_CEILING_DBTP,
        track_key: str = "",
        needs: NeedStore | None = None,
    ) -> None:
        self.renderer = renderer
        self.needs = needs
        self.track = track
        self.gain_db = gain_db
        self.limit = limit
        self.ceiling_dbtp = ceiling_dbtp
        self._track_key = track_key  # what the ambience is made of, for the digest
        self._follow: tuple[int, Iterator[Block], Block] | None = None  # (frame, stream, its rest)
        self._digest: str | None = None

    # -- the renderer's geometry ---------------------------------------------------------------

    @property
    def sample_rate(self) -> int:
        return self.renderer.sample_rate

    @property
    def channels(self) -> int:
        return self.renderer.channels

    @property
    def total_frames(self) -> int:
        return self.renderer.total_frames

    def frames_between(self, start_us: int = 0, end_us: int | None = None) -> int:
        return self.renderer.frames_between(start_us, end_us)

    # -- sound -------------------------------------------------------------------------------

    def _mixed(
        self, start_us: int, end_us: int | None, edges_from_us: int | None = None
    ) -> Iterator[Block | F64]:
        """The voice with the bed under it: int16 blocks as rendered when there is no bed, float
        (full scale 1.0, unclipped) otherwise. The bed fades at the edges of
        ``[edges_from_us, end_us)`` (default ``start_us``) unless that is the whole session."""
        blocks = self.renderer.blocks(start_us, end_us)
        if self.track is None:
            yield from blocks
            return
        a, b = self.renderer._range(start_us if edges_from_us is None else edges_from_us, end_us)
        edge = 0 if (a == 0 and b == self.total_frames) else round(EDGE_FADE_S * self.sample_rate)
        edge = min(edge, (b - a) // 2)
        pos = self.renderer._range(start_us, end_us)[0]
        for block in blocks:
            n = int(block.shape[0])
            bed = self.track.render(pos, n)
            if edge:
                _fade_edges(bed, pos, a, b, edge)
            x = block.astype(np.float64)
            x *= 1.0 / 32768.0
            x += bed if x.ndim == 1 else bed[:, None]
            yield x
            pos += n

    def blocks(self, start_us: int = 0, end_us: int | None = None) -> Iterator[Block]:
        """The finished frames of ``[start_us, end_us)``, block by block, as int16."""
        if not self.limit and self.gain_db == 0.0:
            for x in self._mixed(start_us, end_us):
                if x.dtype == np.int16:
                    yield x  # type: ignore[misc]
                else:  # a bed and no normalisation: the soft knee keeps sums from clipping
                    yield mix_under(np.zeros(x.shape, dtype=np.int16), x.astype(np.float32))
            return
        a, b = self.renderer._range(start_us, end_us)
        if self.track is None and (a == 0 or (self._follow is not None and self._follow[0] == a)):
            yield from self._follow_on(a, b)
            return
        # The limiter remembers the last few hundred ms: a range that starts inside the session
        # begins LIMITER_PREROLL_US early (and drops those frames) to meet the same state.
        pre_us = max(0, start_us - LIMITER_PREROLL_US)
        skip = self.frames_between(pre_us, start_us)
        for y in self._limited(pre_us, end_us, start_us):
            if skip:
                drop = min(skip, y.shape[0])
                y, skip = y[drop:], skip - drop
                if not y.shape[0]:
                    continue
            yield y[:, 0] if self.channels == 1 else y

    def _follow_on(self, a: int, b: int) -> Iterator[Block]:
        """Frames ``[a, b)`` of one whole-session limited stream, continued from the last range
        when it ended at ``a``: split files in order are cut from the very stream a single file
        is, so they join into its exact samples."""
        if a == 0 or self._follow is None:
            self._follow = (0, self._limited(0, None), np.zeros((0, self.channels), dtype=np.int16))
        _, stream, left = self._follow
        need = b - a
        while need > 0:
            if left.shape[0] == 0:
                left = next(stream, None)  # type: ignore[arg-type]
                if left is None:
                    break
                continue
            take = left[:need]
            left = left[need:]
            need -= take.shape[0]
            yield take[:, 0] if self.channels == 1 else take
        if b >= self.total_frames:
            for _ in stream:  # run it to its end, where the limiter's findings are kept
                pass
            self._follow = None
            return
        self._follow = (b, stream, left)

    def _limited(
        self, start_us: int, end_us: int | None, edges_from_us: int | None = None
    ) -> Iterator[Block]:
        """The mix of ``[start_us, end_us)`` at the gain, through the limiter, as int16 frames
        (n, channels). The limiter's findings are replayed from :attr:`needs` when this very
        stream was limited before (same samples, same gain and ceiling), and kept there once it
        has run to the end."""
        mixed = self._mixed(start_us, end_us, edges_from_us)
        if self.needs is None:
            yield from limited_int16(mixed, self.sample_rate, self.channels, self.ceiling_dbtp, self.gain_db)
            return
        a, b = self.renderer._range(start_us, end_us)
        e = a if edges_from_us is None else self.renderer._range(edges_from_us, end_us)[0]
        blocks = self.renderer.block_frames  # where the limiter's calls fall
        key = hashlib.blake2b(
            f"{self.digest()}|{a}|{b}|{e}|{blocks}|{self.gain_db!r}|{self.ceiling_dbtp!r}".encode(),
            digest_size=20,
        ).hexdigest()
        log = self.needs.load(key)
        recording = log is None
        log = NeedLog() if log is None else log
        yield from limited_int16(mixed, self.sample_rate, self.channels, self.ceiling_dbtp, self.gain_db, log)
        if recording:
            self.needs.save(key, log)
        elif not log.complete:  # it did not fit (the limiter worked those parts out): record anew
            self.needs.drop(key)

    def measure(self) -> Measured:
        """The whole session's integrated loudness and loudness range before gain (one pass)."""
        meter = LoudnessMeter(self.sample_rate, self.channels, true_peak=False)
        for x in self._mixed(0, None):
            meter.add(x)
        return Measured(meter.integrated(), meter.loudness_range())

    def report(self) -> LoudnessReport:
        """What the finished session measures (one more pass, with true peak)."""
        meter = LoudnessMeter(self.sample_rate, self.channels)
        for block in self.blocks():
            meter.add(block)
        return LoudnessReport(meter.integrated(), meter.loudness_range(), meter.true_peak_db(), self.gain_db)

    def digest(self) -> str:
        """A hash of everything the mix is made of: equal digests, equal samples."""
        if self._digest is None:
            h = hashlib.blake2b(digest_size=20)
            r = self.renderer
            h.update(f"v{VERSION}|{r.sample_rate}|{r.channels}|{r.total_frames}|{self._track_key}".encode())
            h.update(r.content_digest().encode())
            self._digest = h.hexdigest()
        return self._digest


def _fade_edges(bed: npt.NDArray[np.float32], pos: int, a: int, b: int, edge: int) -> None:
    """Raised-cosine fade of the bed over the first and last ``edge`` frames of ``[a, b)``."""
    n = bed.shape[0]
    for lo, hi, rising in ((a, a + edge, True), (b - edge, b, False)):
        s, e = max(lo, pos), min(hi, pos + n)
        if s >= e:
            continue
        f = np.arange(s, e, dtype=np.float64)
        x = (f - a + 0.5) / edge if rising else (b - f - 0.5) / edge
        bed[s - pos : e - pos] *= (0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))).astype(np.float32)
