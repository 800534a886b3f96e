"""Sessions in Spanish, German, French and Chinese: everything spoken is in the listener's language,
and every translation keeps the English routine's structure."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import pytest

from voiceguide.pipeline import build_timeline, load_routine
from voiceguide.routine.locale import available, load_locale, missing
from voiceguide.routine.model import StepT
from voiceguide.routine.phrases import PHRASES
from voiceguide.routine.steps import Breathe, Pause, PointStep, Repeat, Say, Section, SoundStep, iter_points

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
LANGUAGES = ("es", "de", "fr", "zh")
TRANSLATED = ("lower-back-pain", "box-breathing", "breathing-4-7-8")
# Every shipped English fragment: a new one without translations fails the tests below.
FRAGMENTS = tuple(sorted(p.stem for p in SCRIPTS.glob("_*.yaml")))
# What must never be heard in another language: the English phrase table, word for word.
ENGLISH_PHRASES = {v for k, v in PHRASES.items() if "{" not in v}


def shape(steps: tuple[StepT, ...]) -> list[Any]:
    """A routine's structure without its words: what a translation must keep."""
    out: list[Any] = []
    for s in steps:
        if isinstance(s, Section):
            out.append(("section", shape(s.steps)))
        elif isinstance(s, Repeat):
            out.append(("repeat", s.times, shape(s.steps)))
        elif isinstance(s, PointStep):
            out.append(("point", s.point.code, s.hold_us, s.sides, s.countdown, s.remind_every_us, s.chime))
        elif isinstance(s, Breathe):
            out.append(("breathe", s.phases_us, s.cycles, s.cue))
        elif isinstance(s, Pause):
            out.append(("pause", s.duration_us))
        elif isinstance(s, SoundStep):
            out.append(("sound", s.sound))
        elif isinstance(s, Say):
            out.append("say")
    return out


def test_every_language_is_available() -> None:
    assert set(LANGUAGES) <= set(available())


@pytest.mark.parametrize("code", LANGUAGES)
def test_each_translation_has_the_routines_and_fragments(code: str) -> None:
    names = {p.stem for p in (SCRIPTS / code).glob("*.yaml")}
    assert set(TRANSLATED) | set(FRAGMENTS) <= names


@pytest.mark.parametrize("code", LANGUAGES)
@pytest.mark.parametrize("name", TRANSLATED)
def test_a_translation_keeps_the_structure_of_the_english(code: str, name: str) -> None:
    english = load_routine(SCRIPTS / f"{name}.yaml")
    translated = load_routine(SCRIPTS / code / f"{name}.yaml")
    assert translated.language == code
    assert shape(translated.steps) == shape(english.steps)
    assert len(translated.cautions) == len(english.cautions)


@pytest.mark.parametrize("code", LANGUAGES)
@pytest.mark.parametrize("name", FRAGMENTS)
def test_a_translated_fragment_keeps_the_structure_of_the_english(code: str, name: str) -> None:
    """Fragments are checked on their own too: a translated routine that does not include one yet
    (the 4-7-8 opening) must not let it drift unnoticed."""
    english = load_routine(SCRIPTS / f"{name}.yaml")
    translated = load_routine(SCRIPTS / code / f"{name}.yaml", language=code, strict=True)
    assert shape(translated.steps) == shape(english.steps)
    assert len(translated.cautions) == len(english.cautions)
    said = [s.text for s in iter_says(translated.steps)]
    assert said and not any(re.search(r"\d", t) for t in said), "digits are read out letter by letter"
    english_said = {s.text for s in iter_says(english.steps)}
    assert not english_said & set(said), "a line was left in English"


def iter_says(steps: tuple[StepT, ...]) -> list[Say]:
    out: list[Say] = []
    for s in steps:
        if isinstance(s, (Section, Repeat)):
            out.extend(iter_says(s.steps))
        elif isinstance(s, Say):
            out.append(s)
    return out


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_locale_translates_everything_a_session_says(code: str) -> None:
    locale = load_locale(code)
    routine = load_routine("lower-back-pain", language=code)
    points = sorted({p.point.code for p in iter_points(routine.steps)})
    tags = sorted({t for p in iter_points(routine.steps) for t in p.point.cautions})
    assert missing(locale, points, tags) == []


@pytest.mark.parametrize("code", LANGUAGES)
def test_no_english_phrase_is_spoken_and_numbers_are_the_languages_words(code: str) -> None:
    timeline = build_timeline("lower-back-pain", language=code, estimate=True)
    texts = [e.text for e in timeline.events if e.kind == "speech"]
    assert not ENGLISH_PHRASES & set(texts), ENGLISH_PHRASES & set(texts)
    countdown = [e.text for e in timeline.events if e.role == "countdown"]
    reminders = [e.text for e in timeline.events if e.role == "reminder"]
    assert countdown and reminders
    for english in ("one", "two", "three", "seconds", "left"):  # ("minute" is French and German too)
        assert not any(re.search(rf"\b{english}\b", t, re.I) for t in countdown + reminders), english
    assert not any(re.search(r"\d", t) for t in texts), "digits are read out letter by letter"


# espeak-ng's own name for each language's voice: the yardstick is the command-line program,
# not the engine voiceguide drives, so a session spoken by the wrong voice would not match it.
ESPEAK_VOICES = {"es": "es", "de": "de", "fr": "fr", "zh": "cmn"}


def _wav(path: Path) -> tuple[Any, int]:
    import numpy as np

    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, w.getnchannels())
        return samples[:, 0].astype(np.float64) / 32768, w.getframerate()


def espeak_seconds(text: str, voice: str, rate: int, tmp: Path) -> float:
    """How long espeak-ng's own program takes to say ``text``, first sound to last (its padding
    of silence left out, as voiceguide trims it)."""
    import numpy as np

    out = tmp / "espeak.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(out), text], check=True)
    samples, sr = _wav(out)
    loud = np.nonzero(np.abs(samples) > 0.01)[0]
    return float(loud[-1] - loud[0]) / sr if loud.size else 0.0


def _srt_cues(srt: str) -> list[tuple[float, float]]:
    def seconds(stamp: str) -> float:
        h, m, rest = stamp.split(":")
        s, ms = rest.split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    stamps = re.findall(r"(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)", srt)
    return [(seconds(a), seconds(b)) for a, b in stamps]


@pytest.mark.engine
@pytest.mark.parametrize("code", LANGUAGES)
def test_export_speaks_at_espeak_ngs_own_pace_with_captions(code: str, tmp_path: Path) -> None:
    """Every utterance of the exported session (its caption's length) lasts as long as espeak-ng's
    own program takes to say the same text in that language's voice at the routine's rate, and
    the audio under each caption is speech, not silence."""
    import numpy as np

    out = tmp_path / f"box-{code}.wav"
    subprocess.run([sys.executable, "-m", "voiceguide", "export", "box-breathing", "--language", code,
                    "-o", str(out), "--captions"], check=True, capture_output=True)
    audio, sr = _wav(out)
    english = build_timeline("box-breathing", estimate=False).total_seconds
    assert 0.7 * english < len(audio) / sr < 1.6 * english  # the same session, spoken, not silence
    srt = (tmp_path / f"box-{code}.srt").read_text("utf-8")
    timeline = build_timeline("box-breathing", language=code)
    spoken = [e for e in timeline.events if e.kind == "speech" and e.text.strip()]
    cues = _srt_cues(srt)
    assert len(cues) == len(spoken)
    assert spoken[0].text[:4] in srt  # UTF-8 captions carry the spoken text
    ours = theirs = 0.0
    for event, (start, end) in {e.text: (e, c) for e, c in zip(spoken, cues, strict=True)}.values():
        assert abs(start - event.start_us / 1e6) < 0.002  # the caption is where the timeline put it
        yardstick = espeak_seconds(event.text, ESPEAK_VOICES[code], timeline.voice.rate, tmp_path)
        length = end - start
        assert abs(length - yardstick) <= max(0.15 * yardstick, 0.1), (event.text, length, yardstick)
        ours, theirs = ours + length, theirs + yardstick
        window = audio[int(start * sr) : int(end * sr)]
        step = sr // 50  # 20 ms
        frames = window[: len(window) // step * step].reshape(-1, step)
        voiced = np.sqrt((frames**2).mean(axis=1)) > 0.01
        assert voiced.mean() > 0.5, (event.text, voiced.mean())  # speech under the caption
    assert 0.95 < ours / theirs < 1.05, (ours, theirs)


def test_chinese_end_to_end_in_show_json_and_split_names(tmp_path: Path) -> None:
    cmd = ["show", "lower-back-pain", "--language", "zh", "--json", "--estimate"]
    result = subprocess.run([sys.executable, "-m", "voiceguide", *cmd], check=True, capture_output=True)
    data = json.loads(result.stdout.decode("utf-8"))
    assert re.search(r"[\u4e00-\u9fff]", data["title"])
    point_titles = [s["title"] for s in data["steps"] if s.get("point") == "BL23"]
    assert point_titles and "肾俞" in point_titles[0]
    from voiceguide.exporter.export import split_names

    names = split_names(build_timeline("lower-back-pain", language="zh", estimate=True))
    assert any("肾俞" in n for n in names) and all("/" not in n for n in names)


@pytest.mark.engine
def test_chinese_is_spoken_by_the_mandarin_voice() -> None:
    """Engines call Mandarin `cmn`; a routine says `zh`. The voice must still be the Mandarin one."""
    from voiceguide.speech.registry import get_engine
    from voiceguide.speech.voices import pick_voice

    voice = pick_voice(get_engine("pyttsx3").voices(), "zh", None)
    assert voice is not None and "cmn" in voice


# What a reminder says with this much left, in each language: the verb agrees with the time
# (Spanish), numbers take their form before a unit (veintiún, vingt et une, 两), 1 is "one unit".
REMINDERS = {
    "en": ["One second left.", "Two seconds left.", "Twenty-one seconds left.", "Thirty seconds left.",
           "One minute and thirty seconds left.", "One minute left.", "Two minutes left.",
           "Twelve seconds left.", "Twenty-two seconds left."],
    "es": ["Queda un segundo.", "Quedan dos segundos.", "Quedan veintiún segundos.",
           "Quedan treinta segundos.", "Quedan un minuto y treinta segundos.", "Queda un minuto.",
           "Quedan dos minutos.", "Quedan doce segundos.", "Quedan veintidós segundos."],
    "de": ["Noch eine Sekunde.", "Noch zwei Sekunden.", "Noch einundzwanzig Sekunden.",
           "Noch dreißig Sekunden.", "Noch eine Minute und dreißig Sekunden.", "Noch eine Minute.",
           "Noch zwei Minuten.", "Noch zwölf Sekunden.", "Noch zweiundzwanzig Sekunden."],
    "fr": ["Encore une seconde.", "Encore deux secondes.", "Encore vingt et une secondes.",
           "Encore trente secondes.", "Encore une minute et trente secondes.", "Encore une minute.",
           "Encore deux minutes.", "Encore douze secondes.", "Encore vingt-deux secondes."],
    "zh": ["还有一秒。", "还有两秒。", "还有二十一秒。", "还有三十秒。", "还有一分钟三十秒。", "还有一分钟。",
           "还有两分钟。", "还有十二秒。", "还有二十二秒。"],
}
EDGES = (1, 2, 21, 30, 90, 60, 120, 12, 22)


@pytest.mark.parametrize("code", ["en", *LANGUAGES])
def test_reminders_follow_the_languages_grammar_at_the_edges(code: str) -> None:
    from voiceguide.routine.locale import phrase_table
    from voiceguide.routine.phrases import time_left_words

    phrases = phrase_table(load_locale(code))
    assert [time_left_words(s, phrases) for s in EDGES] == REMINDERS[code]


@pytest.mark.parametrize("code", LANGUAGES)
def test_counting_keeps_the_counting_words(code: str) -> None:
    """The forms before a unit are for durations only: a count still says veintiuno, 二."""
    from voiceguide.routine.locale import phrase_table
    from voiceguide.routine.phrases import number_word

    phrases = phrase_table(load_locale(code))
    expected = {"es": ("dos", "veintiuno"), "de": ("zwei", "einundzwanzig"),
                "fr": ("deux", "vingt et un"), "zh": ("二", "二十一")}[code]
    assert (number_word(2, phrases), number_word(21, phrases)) == expected


def test_a_spanish_hold_says_queda_for_one_minute_and_quedan_for_more(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("title: Prueba\nlanguage: es\nsteps:\n  - point: LI4\n    hold: 3m\n"
                    "    remind_every: 30s\n", encoding="utf-8")
    timeline = build_timeline(path, estimate=True)
    reminders = [e.text for e in timeline.events if e.role == "reminder"]
    assert "Queda un minuto." in reminders and "Quedan dos minutos." in reminders
    assert "Quedan un minuto y treinta segundos." in reminders
    assert not any(r.startswith("Queda ") and "y" in r.split() for r in reminders)


def _left_out(code: str, *avoid: str) -> tuple[str, ...]:
    return build_timeline("lower-back-pain", language=code, avoid=list(avoid), estimate=True).avoided


@pytest.mark.parametrize(
    ("code", "word", "tag"),
    [("es", "embarazo", "pregnancy"), ("es", "Prótesis de cadera", "artificial-hip"),
     ("es", "protesis-de-cadera", "artificial-hip"), ("de", "Schwangerschaft", "pregnancy"),
     ("de", "hüftprothese", "artificial-hip"), ("fr", "grossesse", "pregnancy"),
     ("fr", "enceinte", "pregnancy"), ("zh", "怀孕", "pregnancy"), ("zh", "人工髋关节", "artificial-hip")],
)
def test_avoid_takes_the_tag_in_the_sessions_language(code: str, word: str, tag: str) -> None:
    assert _left_out(code, word) == _left_out(code, tag) != ()
    assert _left_out(code, word, tag) == _left_out(code, tag)  # the same tag twice is one


def test_avoid_names_the_tags_in_the_sessions_language_when_it_knows_none() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "show", "lower-back-pain", "--language", "es", "--estimate",
         "--avoid", "embarazp"], capture_output=True, text=True)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "did you mean 'embarazo'?" in result.stderr
    assert "embarazo (pregnancy)" in result.stderr and "varices (varicose-veins)" in result.stderr
    english = subprocess.run(
        [sys.executable, "-m", "voiceguide", "show", "lower-back-pain", "--estimate", "--avoid", "embarazo"],
        capture_output=True, text=True)
    assert english.returncode != 0 and "known tags: after-meals, artificial-hip" in english.stderr


@pytest.mark.parametrize("code", LANGUAGES)
def test_hold_captions_are_in_the_sessions_language(code: str) -> None:
    """A phone showing the captions during a long hold reads the live view's words for it."""
    from voiceguide.exporter.captions import cues
    from voiceguide.routine.locale import view_labels

    timeline = build_timeline("lower-back-pain", language=code, estimate=True)
    spoken = {e.text for e in timeline.events if e.kind == "speech"}
    holds = [c.text for c in cues(timeline) if c.text not in {" ".join(t.split()) for t in spoken}
             and "\n" not in c.text]
    labels = view_labels(code)
    assert holds and all(h.startswith(labels["hold"] + " · ") or h.startswith(labels["hold"] + ", ")
                         for h in holds), holds[:3]
    assert any(labels["left_side"] in h for h in holds)
    assert not any(re.search(r"\b(Hold|left side|right side)\b", h) for h in holds), holds[:3]
