"""The speech cache: where it lives, what it is keyed by, and that it never serves bad audio."""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

import numpy as np
import platformdirs
import pytest

from voiceguide.audio.clip import Clip
from voiceguide.cli import main
from voiceguide.routine.voice import VoiceSettings
from voiceguide.speech.cache import SpeechCache, cache_dir
from voiceguide.speech.clips import speech_clips
from voiceguide.speech.engine import VoiceInfo
from voiceguide.speech.measured import measured_durations


class FakeEngine:
    """Counts calls; the clip encodes the text length so results are checkable."""

    name = "fake"

    def __init__(self, version: str = "1.0") -> None:
        self._version = version
        self.calls: list[tuple[str, VoiceSettings]] = []

    def version(self) -> str:
        return self._version

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("v1", "Voice One", ("en",))]

    def synthesize(self, text: str, settings: VoiceSettings) -> Clip:
        self.calls.append((text, settings))
        n = 100 * len(text) + settings.rate
        return Clip((np.arange(n) % 200 - 100).astype(np.int16), 22050)

    def close(self) -> None:
        pass


KEY = {"engine": "fake", "version": "1", "voice": "v", "rate": 160, "volume": 1.0, "text": "Hi."}


def clip(n: int = 1000, stereo: bool = False) -> Clip:
    x = (np.arange(n * (2 if stereo else 1)) % 321 - 160).astype(np.int16)
    return Clip(x.reshape(-1, 2) if stereo else x, 22050)


def test_cache_folder_comes_from_the_environment(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("VOICEGUIDE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == Path(platformdirs.user_cache_dir("voiceguide", appauthor=False)) / "speech"
    if sys.platform.startswith("linux"):
        assert cache_dir() == tmp_path / "xdg" / "voiceguide" / "speech"


def test_round_trip_keeps_samples_and_rate(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    for i, c in enumerate((clip(), clip(777, stereo=True), clip(0))):
        key = {**KEY, "text": f"clip {i}"}
        assert cache.put(key, c) is c
        got = cache.get(key)
        assert got is not None
        assert got.sample_rate == 22050 and np.array_equal(got.samples, c.samples)
        assert got.samples.dtype == np.int16


@pytest.mark.parametrize("field,value", [("engine", "other"), ("version", "2"), ("voice", "w"),
                                         ("rate", 161), ("volume", 0.9), ("text", "Hi")])
def test_every_key_field_matters(tmp_path: Path, field: str, value: object) -> None:
    cache = SpeechCache(tmp_path)
    cache.put(KEY, clip())
    assert cache.get({**KEY, field: value}) is None
    assert cache.get(dict(KEY)) is not None


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_damaged_entries_are_misses_and_removed(tmp_path: Path, damage: str) -> None:
    cache = SpeechCache(tmp_path)
    cache.put(KEY, clip())
    path = cache.path_for(KEY)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) - 10]
    elif damage == "flip":
        data[-5] ^= 0xFF
    elif damage == "garbage":
        data = bytearray(b"not a clip at all" * 10)
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    assert cache.get(KEY) is None
    assert not path.exists()  # so it is re-synthesized and rewritten
    cache.put(KEY, clip())
    assert cache.get(KEY) is not None


def test_the_first_writer_wins_so_a_measured_clip_never_changes(tmp_path: Path) -> None:
    """Two processes can synthesize different clips for one text (espeak depends on what it said
    before); whoever stores first defines the clip, and the second gets that one back."""
    first, second = SpeechCache(tmp_path), SpeechCache(tmp_path)
    mine, theirs = clip(1000), clip(1003)
    assert first.put(KEY, mine) is mine
    kept = second.put(KEY, theirs)
    assert kept is not None and np.array_equal(kept.samples, mine.samples)
    got = first.get(KEY)
    assert got is not None and np.array_equal(got.samples, mine.samples)
    assert not [p for p in tmp_path.rglob(".tmp-*")]


def test_a_damaged_entry_is_replaced_by_the_next_writer(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    cache.put(KEY, clip(1000))
    cache.path_for(KEY).write_bytes(b"damaged")
    fresh = clip(1003)
    assert cache.put(KEY, fresh) is fresh
    got = cache.get(KEY)
    assert got is not None and got.frames == 1003


def test_an_unwritable_cache_keeps_clips_for_the_run(tmp_path: Path) -> None:
    """If the cache can't store a clip, forgetting it would mean synthesizing it again, and the
    new version may differ from the one already measured."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    cache = SpeechCache(blocker / "cache")
    assert cache.put(KEY, clip()) is None
    engine = FakeEngine()
    clips = speech_clips(VoiceSettings(), engine=engine, cache=cache)
    clips._recent.limit = 1  # keep almost nothing in the LRU
    first = clips("One.")
    clips("Two, a different one.")
    assert clips("One.") is first and len(engine.calls) == 2


def test_an_entry_for_another_key_is_not_served(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    other = {**KEY, "text": "Other."}
    cache.put(other, clip(50))
    cache.path_for(KEY).parent.mkdir(parents=True, exist_ok=True)
    cache.path_for(KEY).write_bytes(cache.path_for(other).read_bytes())  # a hash "collision"
    assert cache.get(KEY) is None


def test_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    for i in range(5):
        cache.put({**KEY, "text": str(i)}, clip(10 + i))
    names = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert len(names) == 5 and not [n for n in names if n.startswith(".tmp")]


def _hammer(root: str, worker: int) -> int:
    cache = SpeechCache(Path(root))
    bad = 0
    for i in range(60):
        key = {**KEY, "text": f"t{i % 3}"}
        cache.put(key, Clip(np.full(5000 + i % 3, i % 3 + 1, np.int16), 22050))
        got = cache.get(key)
        if got is None or got.frames != 5000 + i % 3 or not (got.samples == i % 3 + 1).all():
            bad += 1
    return bad


def test_processes_can_share_the_cache(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        bad = pool.starmap(_hammer, [(str(tmp_path), w) for w in range(4)])
    assert bad == [0, 0, 0, 0]


def test_info_and_clear(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    assert cache.info().entries == 0
    for i in range(3):
        cache.put({**KEY, "text": str(i)}, clip(100))
    info = cache.info()
    assert info.entries == 3 and info.bytes > 3 * 200 and info.path == tmp_path
    removed = cache.clear()
    assert removed.entries == 3 and removed.bytes == info.bytes
    assert cache.info().entries == 0
    assert cache.get({**KEY, "text": "0"}) is None


def test_clear_removes_the_model_copies_earlier_versions_kept(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "joe-63000000-1700000000-ort1.20.onnx").write_bytes(b"x" * 1000)
    removed = SpeechCache(tmp_path).clear()
    assert removed.bytes == 1000
    assert not (tmp_path / "models").exists()


def test_clear_removes_the_loudness_measurements_and_limiter_records(tmp_path: Path) -> None:
    kept = tmp_path / "loudness"
    kept.mkdir()
    (kept / "0549774e.json").write_text('{"integrated": -20.2, "range": 6.7}')
    (kept / "aa001e28.need.npz").write_bytes(b"x" * 500)
    removed = SpeechCache(tmp_path).clear()
    assert removed.bytes == 500 + len('{"integrated": -20.2, "range": 6.7}')
    assert not kept.exists()


def test_cache_commands(capsys: pytest.CaptureFixture[str]) -> None:
    cache = SpeechCache()
    cache.put(KEY, clip())
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert str(cache.root) in out and "clips: 1" in out
    assert main(["cache", "clear"]) == 0
    assert "Removed 1 clip" in capsys.readouterr().out
    assert SpeechCache().info().entries == 0


def test_clips_go_through_the_cache_and_engine_only_on_a_miss(tmp_path: Path) -> None:
    engine = FakeEngine()
    cache = SpeechCache(tmp_path)
    settings = VoiceSettings(engine="fake", rate=150)
    first = speech_clips(settings, engine=engine, cache=cache)("Breathe in.")
    again = speech_clips(settings, engine=engine, cache=cache)("Breathe in.")
    assert len(engine.calls) == 1 and np.array_equal(first.samples, again.samples)
    speech_clips(VoiceSettings(engine="fake", rate=151), engine=engine, cache=cache)("Breathe in.")
    speech_clips(settings, engine=FakeEngine("2.0"), cache=cache)("Breathe in.")
    assert len(engine.calls) == 2  # the new version went to the other engine object
    speech_clips(settings, engine=engine, cache=cache)("   ")
    assert len(engine.calls) == 2  # empty text never reaches an engine


def test_measured_durations_are_the_cached_clip_lengths(tmp_path: Path) -> None:
    engine = FakeEngine()
    cache = SpeechCache(tmp_path)
    d = measured_durations(VoiceSettings(rate=160), {}, engine=engine, cache=cache)
    n = 100 * len("Relax.") + 160
    assert d.speech_us("Relax.") == round(n * 1_000_000 / 22050)
    assert d.speech_us("Relax.") == d.speech_us("Relax.") and len(engine.calls) == 1


class CountingCache(SpeechCache):
    """The real on-disk cache, counting the entries it reads."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: list[str] = []

    def get(self, key):  # type: ignore[no-untyped-def]
        self.reads.append(key["text"])
        return super().get(key)


def test_measuring_more_than_fits_keeps_the_first_clips_for_rendering(tmp_path: Path) -> None:
    """Measure ten texts with memory for three, then render them in order: the first three come
    from memory and only the other seven are read again (not all ten, as a plain LRU would)."""
    from voiceguide.speech.clips import SpeechClips

    settings = VoiceSettings(engine="fake")
    texts = [f"Sentence number {i} of ten." for i in range(10)]
    engine = FakeEngine()
    one = engine.synthesize(texts[0], settings).samples.nbytes
    warm = SpeechClips(settings, engine=engine, cache=SpeechCache(tmp_path))
    for text in texts:
        warm(text)  # fill the disk cache
    cache = CountingCache(tmp_path)
    clips = SpeechClips(settings, engine=engine, cache=cache, memory_bytes=3 * one + one // 2)
    measured = [clips.ahead(t).duration_us for t in texts]
    assert cache.reads == texts
    cache.reads.clear()
    assert [clips(t).duration_us for t in texts] == measured
    assert cache.reads == texts[3:]


def test_the_length_of_an_entry_comes_from_its_header(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    for i, c in enumerate((clip(), clip(777, stereo=True), clip(0), clip(22051))):
        key = {**KEY, "text": f"clip {i}"}
        cache.put(key, c)
        assert cache.duration_us(key) == c.duration_us
    key = {**KEY, "text": "clip 0"}
    assert cache.duration_us({**KEY, "text": "never stored"}) is None
    path = cache.path_for(key)
    path.write_bytes(path.read_bytes()[:-2])  # cut short: not a length to trust
    assert cache.duration_us(key) is None
    other = cache.path_for({**KEY, "text": "clip 1"})
    path.write_bytes(other.read_bytes())  # another key's entry under this name
    assert cache.duration_us(key) is None
    path.write_bytes(b"garbage")
    assert cache.duration_us(key) is None
