"""Speech as clips: the disk cache first, the engine second, a small memory LRU in front."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from voiceguide.audio.clip import Clip, empty_clip
from voiceguide.lru import ByteLRU
from voiceguide.routine.voice import VoiceSettings
from voiceguide.speech.cache import SpeechCache
from voiceguide.speech.engine import SpeechEngine, speakable
from voiceguide.speech.lengths import note_engine_version, speech_key
from voiceguide.speech.registry import get_engine


def cache_key(engine: SpeechEngine, settings: VoiceSettings, text: str) -> dict[str, Any]:
    """Everything that changes the audio (see :func:`voiceguide.speech.lengths.speech_key`)."""
    return speech_key(engine.name, engine.version(), settings, text)


class SpeechClips:
    """Clips for texts in one voice: disk cache first, engine second. Callable ``(text) -> Clip``.

    Keeps the most recent clips in a small LRU (``memory_bytes``), so measuring durations and
    then rendering reads each file once, while memory stays bounded for any session length.
    """

    def __init__(
        self,
        settings: VoiceSettings,
        *,
        engine: SpeechEngine | None = None,
        cache: Any = None,
        memory_bytes: int = 16 << 20,
    ) -> None:

        self.settings = settings
        self._engine = engine
        self.cache: SpeechCache = cache if cache is not None else SpeechCache()
        self.hits = 0
        self.misses = 0
        self._recent: ByteLRU[str, Clip] = ByteLRU(memory_bytes, lambda c: int(c.samples.nbytes))
        self._unstored: dict[str, Clip] = {}  # clips the cache could not keep (kept for the run)
        self._noted = False  # the engine's version noted beside the cache

    @property
    def engine(self) -> SpeechEngine:
        if self._engine is None:
            self._engine = get_engine(self.settings.engine)
        return self._engine

    def __call__(self, text: str) -> Clip:
        return self._fetch(text, ahead=False)

    def ahead(self, text: str) -> Clip:
        """The clip for ``text``, fetched before it is used (measuring a session, then rendering
        it in the same order). It stays in memory only if that drops nothing: measuring more
        than fits would otherwise leave the last clips in memory and the first ones, which
        rendering needs first, on disk, and every file would be read twice."""
        return self._fetch(text, ahead=True)

    def _fetch(self, text: str, *, ahead: bool) -> Clip:
        spoken = speakable(text)
        if not spoken:
            return empty_clip()
        recent = self._recent.get(spoken) or self._unstored.get(spoken)
        if recent is not None:
            return recent
        key = cache_key(self.engine, self.settings, text)
        if not self._noted:
            # So that `voiceguide list` can find these clips without starting the engine.
            root = getattr(self.cache, "root", None)
            if isinstance(root, Path):
                note_engine_version(root, key["engine"], key["version"])
            self._noted = True
        clip = self.cache.get(key)
        if clip is not None:
            self.hits += 1
        else:
            self.misses += 1
            made = self.engine.synthesize(text, self.settings)
            stored = self.cache.put(key, made)
            if stored is None:
                # Not on disk: forgetting it would mean synthesizing it again, differently
                # (espeak's output depends on what it spoke before), after it was measured.
                self._unstored[spoken] = made
                return made
            clip = stored  # another process may have stored its version first: use that one
        if ahead:
            self._recent.offer(spoken, clip)
        else:
            self._recent.put(spoken, clip)
        return clip


def speech_clips(
    settings: VoiceSettings, *, engine: SpeechEngine | None = None, cache: Any = None
) -> SpeechClips:
    """The renderer's ``text -> Clip`` function for a voice (cached on disk)."""
    return SpeechClips(settings, engine=engine, cache=cache)
