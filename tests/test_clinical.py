"""What a clinical review of the shipped content found, kept fixed.

Each test reads what a listener actually hears (the compiled timeline of a shipped routine, with
speech lengths estimated) or what `voiceguide points` resolves, because that is what a user acts
on with their body: the warning signs that send them to a doctor, the point a code finds, how
many breaths they hold, and which hand presses which.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

import voiceguide

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
ROUTINES = sorted(p.stem for p in SCRIPTS.glob("*.yaml") if not p.name.startswith("_"))
BACK_ROUTINES = ("lower-back-pain", "lower-back-pain-quick")
US = 1_000_000

# Back-pain red flags, in the words a listener must hear. Urgent: the cauda equina warning signs
# of the UK warning-sign cards and NHS trust leaflets. See a doctor: NICE NG59's red flags.
URGENT_SIGNS = {
    "difficulty passing urine": ("difficulty starting to pass urine",),
    "not noticing a full bladder": ("bladder is full",),
    "loss of bladder or bowel control": ("bladder or bowel control",),
    "saddle numbness": ("genitals", "bottom", "inner thighs"),
    "altered feeling when wiping": ("wipe",),
    "sexual dysfunction": ("during sex",),
    "fast-worsening leg weakness": ("weakness in a leg", "quickly getting worse"),
    "symptoms in both legs": ("both legs",),
}
DOCTOR_SIGNS = {
    "fever or feeling unwell": ("fever", "generally unwell"),
    "unexplained weight loss": ("weight loss",),
    "recent fall or injury": ("fall", "injury"),
    "night pain, not eased by rest": ("at night", "lying down"),
    "cancer": ("cancer",),
    "osteoporosis": ("osteoporosis",),
    "steroid use": ("steroid",),
    "pain over six weeks or worsening": ("six weeks", "getting worse"),
}
HAND_AND_ARM_POINTS = {"LI4", "GB21", "TE3", "LI10", "PC6", "HT7"}


def timeline(name: str, **kw: object) -> voiceguide.Timeline:
    return voiceguide.build_timeline(name, estimate=True, **kw)  # type: ignore[arg-type]


def intro_sentences(name: str) -> list[str]:
    """Every sentence spoken before the first step of the session, one by one."""
    t = timeline(name)
    texts = [e.text for e in t.step_events(0) if e.kind == "speech"]
    return [s.strip() for text in texts for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def has(sentence: str, words: tuple[str, ...]) -> bool:
    return all(w.lower() in sentence.lower() for w in words)


def spoken(name: str, **kw: object) -> list[str]:
    return [e.text for e in timeline(name, **kw).events if e.kind == "speech"]


# ---- red flags -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BACK_ROUTINES)
@pytest.mark.parametrize("sign", sorted({**URGENT_SIGNS, **DOCTOR_SIGNS}))
def test_every_back_red_flag_is_spoken_before_the_first_point(name: str, sign: str) -> None:
    words = {**URGENT_SIGNS, **DOCTOR_SIGNS}[sign]
    sentences = intro_sentences(name)
    assert any(has(s, words) for s in sentences), f"{sign!r} is never said"


@pytest.mark.parametrize("name", BACK_ROUTINES)
def test_urgent_signs_are_announced_as_urgent_and_the_others_as_see_a_doctor(name: str) -> None:
    sentences = intro_sentences(name)
    urgent = next(i for i, s in enumerate(sentences) if "urgent medical help" in s)
    doctor = next(i for i, s in enumerate(sentences) if "See a doctor" in s)
    assert urgent < doctor

    def index(words: tuple[str, ...]) -> int:
        return next(i for i, s in enumerate(sentences) if has(s, words))

    for words in URGENT_SIGNS.values():
        assert urgent < index(words) < doctor, words
    for words in DOCTOR_SIGNS.values():
        assert index(words) > doctor, words


@pytest.mark.parametrize("name", BACK_ROUTINES)
def test_red_flags_are_short_sentences(name: str) -> None:
    """A long spoken list is lost by the end of the sentence: one short item each."""
    t = timeline(name)
    flags = [c for c in t.cautions if any(has(c, words) for words in URGENT_SIGNS.values())]
    assert len(flags) >= len(URGENT_SIGNS) - 1, "one item per caution, not one long sentence"
    for sentence in intro_sentences(name):
        assert len(sentence.split()) <= 20, sentence


def test_safety_page_lists_the_same_red_flags() -> None:
    page = (REPO / "docs" / "safety.md").read_text("utf-8")
    for words in (*URGENT_SIGNS.values(), *DOCTOR_SIGNS.values()):
        for w in words:
            assert w.lower() in page.lower(), w
    for source in ("NICE NG59", "cauda equina", "WHO"):
        assert source in page, f"the sources used are named: {source}"


def test_headache_neurological_signs_are_their_own_urgent_item() -> None:
    """Confusion or weakness with a headache is urgent on its own, not only with a fever."""
    sentences = intro_sentences("tension-headache")
    neuro = [s for s in sentences if "confusion" in s]
    assert neuro and all("fever" not in s for s in neuro)
    assert all(w in neuro[0] for w in ("weakness", "numbness", "seeing", "speaking", "urgent"))


# ---- the point catalogue ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "code"), [("B54", "BL40"), ("B47", "BL52"), ("B48", "BL53"), ("B23", "BL23")]
)
def test_gach_codes_still_find_the_article_points(alias: str, code: str) -> None:
    point = voiceguide.load_catalogue().resolve(alias)
    assert point is not None and point.code == code


@pytest.mark.parametrize("key", ["BL54", "UB54", "bl-54"])
def test_who_code_bl54_is_zhibian_on_the_buttock_not_the_back_of_the_knee(key: str) -> None:
    point = voiceguide.load_catalogue().resolve(key)
    assert point is not None and point.code != "BL40"
    assert point.pinyin == "Zhibian"
    assert "buttock" in point.location and "knee" not in point.location
    assert {"pregnancy", "artificial-hip"} <= set(point.cautions)


def test_a_routine_naming_bl54_guides_the_buttock_point(tmp_path: Path) -> None:
    routine = tmp_path / "zhibian.yaml"
    routine.write_text("title: Zhibian\nsteps:\n  - point: BL54\n    hold: 30s\n", "utf-8")
    said = " ".join(spoken(str(routine)))
    assert "buttock" in said and "crease behind" not in said


@pytest.mark.parametrize("code", ["BL23", "BL52"])
def test_lumbar_points_are_left_out_in_pregnancy(code: str) -> None:
    """Lumbosacral points are ruled out in pregnancy by the same sources as GV3 and BL53."""
    point = voiceguide.load_catalogue().points[code]
    assert "pregnancy" in point.cautions
    avoiding = timeline("lower-back-pain", avoid=("pregnancy",))
    assert code in avoiding.avoided
    safety = (REPO / "docs" / "safety.md").read_text("utf-8")
    pregnancy_row = next(line for line in safety.splitlines() if line.startswith("| `pregnancy`"))
    assert code in pregnancy_row


# ---- breathing -----------------------------------------------------------------------------------


def test_four_seven_eight_is_one_round_of_at_most_four_breaths() -> None:
    t = timeline("breathing-4-7-8")
    inhales = [s for s in t.spans if s.kind == "inhale"]
    assert 1 <= len(inhales) <= 4, "the method's author: no more than four breaths at first"
    holds = [s for s in t.spans if s.kind == "hold-in"]
    assert all(h.duration_us == 7 * US for h in holds)
    said = " ".join(spoken("breathing-4-7-8"))
    assert "eight" in said and "never more" in said, "it says how far one may build up"


def test_four_seven_eight_intro_fits_the_method() -> None:
    said = " ".join(spoken("breathing-4-7-8"))
    assert "out through your mouth" in said
    assert "count faster" in said and "proportions" in said, "keep the ratio, count faster"
    assert "less deeply" not in said
    assert "Breathe through your nose if" not in said


@pytest.mark.parametrize("name", ROUTINES)
def test_routines_with_breath_holds_warn_who_should_skip_them(name: str) -> None:
    t = timeline(name)
    longest = max((s.duration_us for s in t.spans if s.kind in ("hold-in", "hold-out")), default=0)
    caution = [s for s in intro_sentences(name) if "hold" in s and "pregnant" in s]
    if longest >= 4 * US:
        assert caution, f"{name} holds the breath {longest / US:g} s without the caution"
        for condition in ("heart", "lung", "high blood pressure", "breathe slowly"):
            assert condition in caution[0], condition


@pytest.mark.parametrize(
    "name", ["box-breathing", "coherent-breathing", "breathing-4-7-8", "sleep-wind-down"]
)
def test_lying_routines_offer_lying_on_your_side(name: str) -> None:
    said = " ".join(spoken(name))
    assert "on your side" in said


# ---- point technique and wording ----------------------------------------------------------------


@pytest.mark.parametrize("name", ROUTINES)
def test_hand_and_arm_points_say_which_hand_presses(name: str) -> None:
    t = timeline(name)
    for step in t.steps:
        if step.point is None or step.point.sides != "alternate":
            continue
        if step.point.code not in HAND_AND_ARM_POINTS:
            continue
        sides = [e.text for e in t.step_events(step.index) if e.role == "side"]
        assert len(sides) == 2, step.title
        assert "left" in sides[0].lower() and "right hand" in sides[0], sides[0]
        assert "right" in sides[1].lower() and "left hand" in sides[1], sides[1]


@pytest.mark.parametrize("name", BACK_ROUTINES)
def test_back_of_the_knee_is_held_at_a_right_angle_with_light_pressure(name: str) -> None:
    t = timeline(name)
    step = next(s for s in t.steps if s.point is not None and s.point.code == "BL40")
    said = " ".join(e.text for e in t.step_events(step.index) if e.kind == "speech")
    assert "right angle" in said and "one at a time" in said and "both knees" in said
    assert "chest" not in said, "knees to the chest folds the crease over the vessels"
    assert "light" in said.lower().replace("right", "")


@pytest.mark.parametrize("name", BACK_ROUTINES)
def test_buttock_point_is_measured_from_the_centre_line(name: str) -> None:
    t = timeline(name)
    step = next(s for s in t.steps if s.point is not None and s.point.code == "BL53")
    said = " ".join(e.text for e in t.step_events(step.index) if e.kind == "speech")
    assert "four finger-widths" in said and "centre line" in said and "dimples" in said
    assert "flat bone" not in said, "the edge of the sacrum cannot be felt at that level"
    assert "flat hands" in said and "small circles" not in said


@pytest.mark.parametrize("name", ROUTINES)
def test_no_instruction_that_cannot_be_followed(name: str) -> None:
    said = " ".join(spoken(name))
    assert "lean into" not in said.lower(), "sitting with the back free, there is nothing to lean on"
    assert "kidney points" not in said, "the spoken name is Kidney Shu"
    assert "a little above the level" not in said
    assert "just inside the tendon" not in said


def test_kidney_shu_height_is_counted_from_the_hip_bone_line() -> None:
    said = " ".join(spoken("lower-back-pain"))
    assert "tops of your hip bones, and count two bumps up" in said


def test_quick_routine_says_its_holds_are_short() -> None:
    summary = voiceguide.load_routine("lower-back-pain-quick").summary
    assert "20 to 30 seconds" in summary and "one to two minutes" in summary


# ---- --avoid: what is left must still make sense -------------------------------------------------

TAGS = sorted({tag for p in voiceguide.load_catalogue().points.values() for tag in p.cautions})
SUPINE_OR_KNEES_TO_CHEST = re.compile(
    r"lie (?:down )?on your back|lying on your back|lie flat|knees? (?:up )?(?:toward|to) your chest"
    r"|draw(?:ing)? your knees up",
    re.IGNORECASE,
)


def leaves(steps: tuple[object, ...]) -> list[object]:
    """Steps in the order they are heard (sections opened, a repeat's steps once)."""
    from voiceguide.routine.steps import kind_of

    out: list[object] = []
    for step in steps:
        children = kind_of(step).children(step)  # type: ignore[arg-type]
        out.extend(leaves(children) if children else [step])
    return out


def kind(step: object) -> str:
    from voiceguide.routine.steps import kind_of

    return kind_of(step).name  # type: ignore[arg-type]


def where(step: object) -> tuple[str, int, int]:
    origin = step.origin  # type: ignore[attr-defined]
    return (origin.file, origin.line, origin.column)


def written_for(path: Path) -> list[tuple[set[str], set[str], str]]:
    """(points named by `for:`, its `unless_avoiding:` tags, text) of every `say` with `for:`."""
    import yaml

    found: list[tuple[set[str], set[str], str]] = []

    def walk(steps: list[dict[str, object]]) -> None:
        for step in steps:
            if "for" in step and "say" in step:
                unless = {str(t) for t in step.get("unless_avoiding", ())}  # type: ignore[attr-defined]
                text = " ".join(str(step["say"]).split())
                found.append(({str(c) for c in step["for"]}, unless, text))  # type: ignore[attr-defined]
            for key in ("steps", "instead"):
                if isinstance(step.get(key), list):
                    walk(step[key])  # type: ignore[arg-type]

    walk(yaml.safe_load(path.read_text("utf-8"))["steps"])
    return found


@pytest.mark.parametrize("tag", TAGS)
@pytest.mark.parametrize("name", ROUTINES)
def test_avoiding_leaves_no_step_about_a_removed_point(name: str, tag: str) -> None:
    t = timeline(name, avoid=(tag,))
    said = " ".join(e.text for e in t.events if e.kind == "speech")
    catalogue = voiceguide.load_catalogue()
    for code in t.avoided:
        point = catalogue.points[code]
        assert point.location not in said and f"{point.name}." not in said, code
    for codes, unless, text in written_for(SCRIPTS / f"{name}.yaml"):
        if codes <= set(t.avoided) or tag in unless:
            assert text not in said, f"{text!r} belongs to {sorted(codes)}, all left out"
        elif not codes & set(t.avoided):
            assert text in said, f"{text!r} is left out though its points stay"


@pytest.mark.parametrize("tag", TAGS)
@pytest.mark.parametrize("name", ROUTINES)
def test_avoiding_brings_no_two_steps_of_a_kind_together(name: str, tag: str) -> None:
    """No two breathing steps (or pauses, or sayings) back to back that the author did not write."""
    full = leaves(voiceguide.load_routine(name).steps)
    written = {(where(a), where(b)) for a, b in itertools.pairwise(full)}
    in_full = {where(s) for s in full}
    kept = leaves(voiceguide.load_routine(name, avoid=(tag,)).steps)
    for a, b in itertools.pairwise(kept):
        if kind(a) != kind(b):
            continue
        replacement = where(a) not in in_full and where(b) not in in_full  # one `instead:` list
        assert (where(a), where(b)) in written or replacement, (
            f"{kind(a)} at {where(a)[1]} then {kind(b)} at {where(b)[1]}"
        )


@pytest.mark.parametrize("name", ROUTINES)
def test_a_pregnant_listener_is_never_asked_to_lie_on_their_back(name: str) -> None:
    for text in spoken(name, avoid=("pregnancy",)):
        assert not SUPINE_OR_KNEES_TO_CHEST.search(text), text


@pytest.mark.parametrize("name", BACK_ROUTINES)
def test_a_pregnant_listener_still_does_the_back_of_the_knee_sitting(name: str) -> None:
    t = timeline(name, avoid=("pregnancy",))
    step = next(s for s in t.steps if s.point is not None and s.point.code == "BL40")
    said = " ".join(e.text for e in t.step_events(step.index) if e.kind == "speech")
    assert "Sitting" in said and "right angle" in said and "Lift your feet" not in said
    everything = " ".join(spoken(name, avoid=("pregnancy",)))
    assert "Slide your hands out" not in everything and "sitting" in everything
    assert SUPINE_OR_KNEES_TO_CHEST.search(" ".join(spoken(name))), "lying down without the filter"


@pytest.mark.parametrize("name", BACK_ROUTINES)
def test_the_avoid_option_is_offered_only_when_it_is_not_already_on(name: str) -> None:
    offer = "start with the option, avoid pregnancy"
    assert any(offer in s for s in spoken(name))
    assert not any(offer in s for s in spoken(name, avoid=("pregnancy",)))
    assert not any(offer in c for c in timeline(name, avoid=("pregnancy",)).cautions)
    assert any(offer in c for c in timeline(name, avoid=("artificial-hip",)).cautions)


@pytest.mark.parametrize("code", ["BL53", "BL40"])
def test_a_point_with_several_cautions_gets_one_sentence_not_three(code: str) -> None:
    timeline = voiceguide.build_timeline("lower-back-pain", estimate=True)
    events = [e for e in timeline.events if e.kind == "speech"]
    step = next(s for s in timeline.steps if s.point and s.point.code == code)
    before = [e for e in events if e.step == step.index and e.role == "caution"]
    assert len(before) == 1
    tags = voiceguide.load_catalogue().points[code].cautions
    assert len(tags) == 3  # three tags, one sentence that covers them all
    for word in ("blood thinners",):
        assert word in before[0].text


def test_a_translation_without_the_combined_sentence_speaks_its_own_single_ones() -> None:
    timeline = voiceguide.build_timeline("lower-back-pain", language="de", estimate=True)
    texts = " ".join(e.text for e in timeline.events if e.kind == "speech")
    assert "pregnant or have an artificial hip" not in texts
