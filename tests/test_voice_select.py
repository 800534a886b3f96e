"""Which voice a routine gets: by name, or by its `language:` when no voice is named."""

from __future__ import annotations

import pytest

from voiceguide.errors import EXIT_INVALID, UsageError
from voiceguide.speech.engine import VoiceInfo
from voiceguide.speech.voices import language_rank, pick_voice, voices_for_language

# espeak-ng's voices as pyttsx3 lists them (ids, names and language tags copied from a real run),
# in espeak's own order: the Caribbean voice comes before the British and American ones.
ESPEAK = [
    VoiceInfo("gmw/af", "Afrikaans", ("af",)),
    VoiceInfo("gmw/de", "German", ("de",)),
    VoiceInfo("gmw/en-029", "English (Caribbean)", ("en-029",)),
    VoiceInfo("gmw/en", "English (Great Britain)", ("en-gb",)),
    VoiceInfo("gmw/en-gb-scotland", "English (Scotland)", ("en-gb-scotland",)),
    VoiceInfo("gmw/en-gb-x-rp", "English (Received Pronunciation)", ("en-gb-x-rp",)),
    VoiceInfo("gmw/en-us", "English (America)", ("en-us",)),
    VoiceInfo("gmw/en-us-nyc", "English (America, New York City)", ("en-us-nyc",)),
    VoiceInfo("roa/fr-be", "French (Belgium)", ("fr-be",)),
    VoiceInfo("roa/fr-ch", "French (Switzerland)", ("fr-ch",)),
    VoiceInfo("roa/fr", "French (France)", ("fr-fr",)),
]

# macOS-style voices: reverse-DNS ids and underscore tags.
MACOS = [
    VoiceInfo("com.apple.voice.compact.en-GB.Daniel", "Daniel", ("en_GB",)),
    VoiceInfo("com.apple.voice.compact.en-US.Samantha", "Samantha", ("en_US",)),
    VoiceInfo("com.apple.voice.compact.it-IT.Alice", "Alice", ("it_IT",)),
]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "gmw/en"),  # espeak's own default English, not the first en-* in the list
        ("en-us", "gmw/en-us"),
        ("en-US", "gmw/en-us"),
        ("en_US", "gmw/en-us"),
        ("EN-GB", "gmw/en"),
        ("fr", "roa/fr"),  # France, not Belgium (listed first)
        ("fr-FR", "roa/fr"),
        ("fr-CA", "roa/fr"),  # no Canadian voice: the language's default voice
        ("de", "gmw/de"),
        ("de-AT", "gmw/de"),  # regional tag falls back to the base language
        ("en-AU", "gmw/en"),
    ],
)
def test_language_picks_the_natural_default_voice(language: str, expected: str) -> None:
    assert pick_voice(ESPEAK, language, None) == expected


def test_language_nobody_speaks_leaves_the_engine_default() -> None:
    assert pick_voice(ESPEAK, "ja", None) is None
    assert pick_voice(ESPEAK, "", None) is None
    assert pick_voice([], "en", None) is None


def test_language_matching_with_underscore_tags() -> None:
    assert pick_voice(MACOS, "en", None) == "com.apple.voice.compact.en-GB.Daniel"
    assert pick_voice(MACOS, "en-us", None) == "com.apple.voice.compact.en-US.Samantha"
    assert pick_voice(MACOS, "it", None) == "com.apple.voice.compact.it-IT.Alice"


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("gmw/en-us", "gmw/en-us"),  # the id
        ("GMW/EN-US", "gmw/en-us"),
        ("English (America)", "gmw/en-us"),  # the name, as `voiceguide voices` shows it
        ("english (america)", "gmw/en-us"),
        ("  French (France) ", "roa/fr"),
        ("en-us", "gmw/en-us"),  # the id without its family prefix
    ],
)
def test_named_voice_wins_over_language(requested: str, expected: str) -> None:
    assert pick_voice(ESPEAK, "fr", requested) == expected


def test_named_voice_prefers_exact_id_over_other_matches() -> None:
    voices = [VoiceInfo("b", "a", ("en",)), VoiceInfo("a", "other", ("en",))]
    assert pick_voice(voices, "en", "a") == "a"  # id "a" beats the voice *named* "a"


def test_unknown_voice_is_a_clear_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        pick_voice(ESPEAK, "en", "English (Amerca)")
    message = str(info.value)
    assert "'English (Amerca)'" in message
    assert "English (America)" in message  # suggests the close match
    assert "voiceguide voices" in message
    assert info.value.exit_code == EXIT_INVALID


def test_unknown_voice_without_close_match_still_says_how_to_list() -> None:
    with pytest.raises(UsageError, match="voiceguide voices"):
        pick_voice(MACOS, "en", "zzzz")


def test_blank_voice_name_means_no_voice_named() -> None:
    assert pick_voice(ESPEAK, "fr", "  ") == "roa/fr"


def test_voices_for_language_lists_best_first_and_only_speakers() -> None:
    ids = [v.id for v in voices_for_language(ESPEAK, "en")]
    assert ids[0] == "gmw/en"
    assert set(ids) == {v.id for v in ESPEAK if v.languages[0].startswith("en")}
    # plainer regional voices before sub-variants
    assert ids.index("gmw/en-us") < ids.index("gmw/en-us-nyc")
    assert ids.index("gmw/en-029") < ids.index("gmw/en-gb-x-rp")
    assert voices_for_language(ESPEAK, "xx") == []


def test_language_rank_does_not_confuse_prefixes() -> None:
    # "en" must not match "eng"-like tags, nor "e"
    assert language_rank(VoiceInfo("x/eng", "Eng", ("eng",)), "en") is None
    assert language_rank(VoiceInfo("gmw/en", "English", ("en-gb",)), "e") is None


@pytest.mark.engine
@pytest.mark.parametrize(("language", "expected"), [("en", "gmw/en"), ("en-US", "gmw/en-us")])
def test_voices_command_shows_the_voice_a_routine_gets(
    language: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `voiceguide voices --language` promises is what the pyttsx3 engine really uses."""
    from voiceguide.cli import main
    from voiceguide.routine.voice import VoiceSettings
    from voiceguide.speech.pyttsx3_engine import Pyttsx3Engine
    from voiceguide.speech.registry import get_engine

    assert main(["voices", "--language", language]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if "gmw/" in line]
    assert rows and rows[0].split()[1] == expected
    assert f"uses {expected}." in out
    engine = get_engine("pyttsx3")
    assert isinstance(engine, Pyttsx3Engine)
    assert engine.resolve_voice(VoiceSettings(language=language)) == expected


@pytest.mark.engine
def test_voices_command_without_language_lists_every_voice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from voiceguide.cli import main
    from voiceguide.speech.registry import get_engine

    assert main(["voices"]) == 0
    out = capsys.readouterr().out
    ids = [v.id for v in get_engine("pyttsx3").voices()]
    assert len(ids) > 20
    assert all(i in out for i in ids)
