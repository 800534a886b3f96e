"""The printable guide and the body-map drawings: structure, safety, and what a real browser shows."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from html import escape, unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import voiceguide
from voiceguide.bodymap import slug
from voiceguide.cli import main
from voiceguide.guide import FRAMES, build_guide, load_positions, point_svg
from voiceguide.routine.library import shipped_routines

ROUTINES = [p.stem for p in shipped_routines()]


def _point_codes(steps: Any) -> Iterator[str]:
    for step in steps:
        if hasattr(step, "steps"):
            yield from _point_codes(step.steps)
        elif hasattr(step, "point") and hasattr(step, "hold_us"):
            yield step.point.code


class _Page(HTMLParser):
    """Cards (code, ids inside), the position of the safety box, and every tag and attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[tuple[str, set[str]]] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.safety_at = -1
        self.first_card_at = -1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = {k: v or "" for k, v in attrs}
        self.attrs.extend(values.items())
        if "safety" in values.get("class", "").split() and self.safety_at < 0:
            self.safety_at = len(self.tags)
        if tag == "article" and "card" in values.get("class", "").split():
            if self.first_card_at < 0:
                self.first_card_at = len(self.tags)
            self.cards.append((values["data-code"], set()))
        elif self.cards and "id" in values:
            self.cards[-1][1].add(values["id"])


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


# ---- positions ---------------------------------------------------------------------------------


def test_every_catalogue_point_has_a_position_inside_its_view() -> None:
    positions = load_positions()
    missing = [code for code in voiceguide.load_catalogue().points if not positions.get(code)]
    assert not missing, (
        f"give these points a position in voiceguide/routine/data/point_positions.yaml: {missing}"
    )
    for code, where in positions.items():
        for p in where:
            view = FRAMES[p.view]
            assert 0 <= p.x <= view.width and 0 <= p.y <= view.height, code


def test_positions_agree_with_the_spoken_locations() -> None:
    pos = {code: p[0] for code, p in load_positions().items()}
    back = FRAMES["back"]
    spine = back.centre
    # Kidney points and Will's Chamber: the same height, at the waist, Will's Chamber twice as far out.
    assert pos["BL23"].y == pos["BL52"].y == pytest.approx(back.landmarks["waist"][1], abs=3)
    assert abs(pos["BL52"].x - spine) == pytest.approx(2 * abs(pos["BL23"].x - spine))
    # GV3 on the spine, level with the tops of the hip bones, below BL23.
    assert pos["GV3"].x == spine and pos["GV3"].y == pytest.approx(back.landmarks["hip-top"][1], abs=4)
    # BL53 on the buttock: below the hip-bone tops, above the fold of the buttock.
    assert back.landmarks["hip-top"][1] < pos["BL53"].y < back.landmarks["buttock-fold"][1]
    # CV6 on the centre line, below the navel.
    front = FRAMES["front"]
    assert pos["CV6"].x == front.centre and pos["CV6"].y > front.landmarks["navel"][1]
    # SP6 above the inner ankle; PC6 toward the elbow from the wrist crease, HT7 on it.
    assert pos["SP6"].y < FRAMES["leg-front"].landmarks["inner-ankle"][1]
    inner = FRAMES["forearm-inner"].landmarks
    assert pos["PC6"].y > inner["wrist-crease-middle"][1] > inner["elbow-crease-middle"][1] - 200
    assert pos["HT7"].y == pytest.approx(inner["wrist-crease-little-finger"][1])
    # GB20 under the base of the skull; Yintang on the face's centre line.
    assert pos["GB20"].y > FRAMES["head-back"].landmarks["skull-base"][1]
    assert pos["EX-HN3"].x == FRAMES["face"].centre


def test_a_bilateral_point_is_marked_on_both_sides_a_midline_point_once() -> None:
    svg = point_svg("BL23")
    assert svg is not None
    assert 'id="point-BL23-a"' in svg and 'id="point-BL23-b"' in svg
    gv3 = point_svg("GV3")
    assert gv3 is not None and 'id="point-GV3-only"' in gv3 and "point-GV3-b" not in gv3
    assert "<title>" in svg and 'aria-label="Kidney Shu (BL23), on both sides"' in svg


# ---- structure ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ROUTINES)
def test_one_card_per_point_step_in_session_order_each_marking_its_point(name: str) -> None:
    page = _parse(build_guide(name))
    expected = list(_point_codes(voiceguide.load_routine(name).steps))
    assert [code for code, _ in page.cards] == expected
    for number, (code, ids) in enumerate(page.cards, start=1):
        assert f"c{number}-point-{slug(code)}" in ids, f"card {number} does not mark {code}"
    if expected:
        assert 0 < page.safety_at < page.first_card_at, "cautions must come before the first card"


def test_avoid_pregnancy_leaves_out_the_same_points_as_the_session() -> None:
    timeline = voiceguide.build_timeline("lower-back-pain", avoid=["pregnancy"], estimate=True)
    session = [s.point.code for s in timeline.spans if s.kind == "hold" and s.point]
    html = build_guide("lower-back-pain", avoid=["pregnancy"])
    cards = [code for code, _ in _parse(html).cards]
    assert cards == list(dict.fromkeys(session))
    tagged = {s.point.code for s in _leaves(voiceguide.load_routine("lower-back-pain").steps)
              if hasattr(s, "hold_us") and "pregnancy" in s.point.cautions}  # fmt: skip
    assert tagged and set(timeline.avoided) == tagged
    assert not set(cards) & set(timeline.avoided)
    assert "Left out because you asked to avoid pregnancy" in html


# ---- the command line --------------------------------------------------------------------------


def test_cli_writes_the_guide_and_a_point_diagram(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "guide.html"
    assert main(["guide", "lower-back-pain", "-o", str(out), "--avoid", "pregnancy"]) == 0
    cards = [c for c, _ in _parse(out.read_text("utf-8")).cards]
    assert cards == [
        c for c in _point_codes(voiceguide.load_routine("lower-back-pain", avoid=["pregnancy"]).steps)
    ]
    assert "LI4" not in cards and "LI11" in cards
    svg = tmp_path / "b48.svg"
    assert main(["points", "B48", "--svg", str(svg)]) == 0
    assert 'id="point-BL53-a"' in svg.read_text("utf-8")
    capsys.readouterr()
    assert main(["points", "LI4"]) == 0
    assert "--svg" in capsys.readouterr().out
    assert main(["guide", "lower-back-pain", "-o", str(tmp_path / "no" / "g.html")]) == 1
    assert "does not exist" in capsys.readouterr().err


# ---- hostile text ------------------------------------------------------------------------------

HOSTILE = "<script>document.title='PWNED'</script>"
IMG = '"><img src=x onerror="document.title=\'PWNED\'">'


def _hostile_routine(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.yaml"
    path.write_text(
        f"""title: {json.dumps("Evil " + HOSTILE)}
summary: {json.dumps("</style><style>body{display:none}</style>")}
cautions:
  - {json.dumps(IMG)}
points:
  X1:
    names: [{json.dumps("Bad <b>point</b> " + IMG)}]
    sides: bilateral
    location: {json.dumps("javascript:alert(1) <a href='javascript:alert(1)'>here</a>")}
    technique: {json.dumps("</style><script>document.title='PWNED'</script>")}
steps:
  - say: {json.dumps("Sit on a chair. " + HOSTILE)}
  - point: X1
  - point: LI4
""",
        "utf-8",
    )
    return path


def test_hostile_routine_text_is_escaped_in_the_markup(tmp_path: Path) -> None:
    html = build_guide(_hostile_routine(tmp_path))
    page = _parse(html)
    assert "script" not in page.tags and "img" not in page.tags and "a" not in page.tags
    assert page.tags.count("style") == 1 and html.count("</style>") == 1
    assert not any(k in ("href", "src") or k.startswith("on") for k, _ in page.attrs)
    assert not any("javascript:" in v for _, v in page.attrs)
    assert "&lt;script&gt;" in html and "javascript:alert(1)" in html  # shown as text
    # The user point has no position: it is listed without a diagram, LI4 still has one.
    assert [c for c, _ in page.cards] == ["X1", "LI4"]
    assert "No diagram for this point" in html


# ---- a real browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium is not installed")
    return found


def _browser(chromium: str, tmp_path: Path, *args: str, timeout: float = 90) -> str:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    cmd = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--hide-scrollbars", f"--user-data-dir={profile}", *args,
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


MEASURE = """<script>
const out = (parent === window ? document : parent.document).getElementById('measured');
out.textContent = JSON.stringify({
  height: document.documentElement.scrollHeight, width: document.documentElement.scrollWidth,
  title: document.title, imgs: document.images.length,
  svgs: [...document.querySelectorAll('svg.bodymap')].map(s => {
    const b = s.getBoundingClientRect(); return [b.left, b.top + scrollY, b.width, b.height]; })});
</script>"""


def _framed(html: str, width: int, height: int, *, probe: bool) -> str:
    """The page inside a frame of exactly ``width`` px (headless windows are at least 500 px wide).

    The probe (test-only) drops the page's Content-Security-Policy and adds a measuring script.
    """
    if probe:
        html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
        html = html.replace("</body>", MEASURE + "</body>")
    return (
        '<!DOCTYPE html><html><body style="margin:0;background:#fff">'
        f'<iframe style="display:block;border:0;width:{width}px;height:{height}px" '
        f'srcdoc="{escape(html, quote=True)}"></iframe><pre id="measured"></pre></body></html>'
    )


def _measure(chromium: str, tmp_path: Path, html: str, width: int) -> dict[str, Any]:
    """Layout numbers from the browser, for the page shown ``width`` px wide."""
    probe = tmp_path / f"probe-{width}.html"
    probe.write_text(_framed(html, width, 2000, probe=True), "utf-8")
    dom = _browser(chromium, tmp_path, "--window-size=1000,2000", "--dump-dom", probe.as_uri())
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert found and found.group(1), dom[-500:]
    return dict(json.loads(unescape(found.group(1))))


@pytest.mark.slow
def test_hostile_text_runs_nothing_in_a_browser(chromium: str, tmp_path: Path) -> None:
    html = build_guide(_hostile_routine(tmp_path))
    page = tmp_path / "hostile.html"
    page.write_text(html, "utf-8")
    dom = _browser(chromium, tmp_path, "--dump-dom", page.as_uri())
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title and title.group(1).startswith("Evil &lt;script&gt;") and "<img" not in dom
    # Escaping alone must hold, without the Content-Security-Policy as a second line of defence.
    measured = _measure(chromium, tmp_path, html, 1000)
    assert measured["title"].startswith("Evil <script>") and measured["imgs"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("width", [1000, 360])
def test_guide_renders_with_visible_diagrams(chromium: str, tmp_path: Path, width: int) -> None:
    from PIL import Image

    html = build_guide("lower-back-pain")
    cards = len(_parse(html).cards)
    measured = _measure(chromium, tmp_path, html, width)
    assert measured["width"] <= width, "the page must not scroll sideways on a phone"
    assert cards * 250 + 600 < measured["height"] < cards * 1100 + 3000
    assert len(measured["svgs"]) == cards
    page = tmp_path / "guide.html"
    page.write_text(_framed(html, width, measured["height"], probe=False), "utf-8")
    shot = tmp_path / "guide.png"
    size = f"--window-size={max(width, 500)},{measured['height']}"
    _browser(chromium, tmp_path, size, f"--screenshot={shot}", page.as_uri())
    image = Image.open(shot).convert("RGB")
    assert image.size[1] == measured["height"]
    for left, top, w, h in measured["svgs"]:
        assert w > 150 and h > 150, "each diagram is big enough to read"
        region = image.crop((int(left), int(top), int(left + w), int(top + h)))
        pixels = list(region.get_flattened_data())
        drawn = sum(1 for r, g, b in pixels if r + g + b < 720) / len(pixels)
        outline = sum(1 for r, g, b in pixels if r + g + b < 150) / len(pixels)
        marked = sum(1 for r, g, b in pixels if r > 170 and g < 60 and b < 80)
        assert drawn > 0.2, "the drawing fills its frame"
        assert outline > 0.01, "the body has a dark outline"
        assert marked > 30, "the point is marked in red"


@pytest.mark.slow
@pytest.mark.parametrize(("paper", "width"), [("A4", 210), ("letter", 215.9)])
def test_print_layout_keeps_each_card_on_one_page(
    chromium: str, tmp_path: Path, paper: str, width: float
) -> None:
    from pypdf import PdfReader

    html = build_guide("lower-back-pain")
    cards = _parse(html).cards
    page = tmp_path / "a4.html"
    page.write_text(html.replace("</style>", f"@page {{ size: {paper}; }}</style>", 1), "utf-8")
    pdf = tmp_path / "guide.pdf"
    _browser(chromium, tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    reader = PdfReader(pdf)
    width_mm = float(reader.pages[0].mediabox.width) / 72 * 25.4
    assert width_mm == pytest.approx(width, abs=1)
    # A title page with the cautions, then two or three cards a page.
    assert 1 + len(cards) // 3 <= len(reader.pages) <= 2 + len(cards) // 2
    texts = [" ".join(unicodedata.normalize("NFKC", p.extract_text()).split()) for p in reader.pages]
    routine = voiceguide.load_routine("lower-back-pain")
    steps = [s for s in _leaves(routine.steps) if hasattr(s, "hold_us")]
    for step in steps:
        head = [i for i, t in enumerate(texts) if step.name in t]
        tail_words = " ".join(step.technique.split()[-4:])
        tail = [i for i, t in enumerate(texts) if tail_words in t]
        assert head and head == tail, f"the card of {step.point.code} is split across pages"


def _leaves(steps: Any) -> Iterator[Any]:
    for step in steps:
        if hasattr(step, "steps"):
            yield from _leaves(step.steps)
        else:
            yield step


def _user_point_routine(tmp_path: Path, position: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(
        f"""title: My wrist point
points:
  MY1:
    names: [Wrist Helper]
    sides: bilateral
    location: On the back of the wrist, in the middle.
    technique: Press gently.
    position: {position}
steps:
  - point: MY1
""",
        "utf-8",
    )
    return path


def test_a_user_point_with_a_position_gets_its_diagram(tmp_path: Path) -> None:
    html = build_guide(_user_point_routine(tmp_path, "{view: hand-back, at: wrist, dy: -1}"))
    (code, ids), *_ = _parse(html).cards
    assert code == "MY1" and {"c1-point-MY1-a", "c1-point-MY1-b"} <= ids


def test_a_user_point_with_a_wrong_view_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _user_point_routine(tmp_path, "{view: hand-bak, at: wrist}")
    assert main(["guide", str(path), "-o", str(tmp_path / "g.html")]) == 2
    err = capsys.readouterr().err
    assert "mine.yaml:8:" in err and "unknown view 'hand-bak'" in err and "hand-back" in err
    assert "Traceback" not in err and not (tmp_path / "g.html").exists()


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        ("{view: hand-bak, at: wrist}", "mine.yaml:8:22: error: points.MY1.position.view: unknown view "
         "'hand-bak' (hint: did you mean 'hand-back'? views: back, front,"),
        ("{view: hand-back, at: wrsit}", "mine.yaml:8:37: error: points.MY1.position.at: view 'hand-back' "
         "has no landmark 'wrsit' (hint: did you mean 'wrist'? landmarks: index-knuckle,"),
        ("{view: hand-back, at: wrist, dy: 40}", "mine.yaml:8:48: error: points.MY1.position.dy: the "
         "position falls outside the 'hand-back' drawing (hint: the drawing is about 16 cun across"),
        ("{view: back, between: [waist]}", "mine.yaml:8:37: error: points.MY1.position.between: between must "
         "list two landmarks"),
        ("{view: back, at: waist, dx: left}", "mine.yaml:8:43: error: points.MY1.position.dx: dx must be "
         "a number"),
        ("{view: back, hight: 2}", "mine.yaml:8:28: error: points.MY1.position.hight: unknown position key "
         "'hight' (hint: keys: view, at, between, t, dx, dy)"),
        ("{view: back}", "mine.yaml:8:15: error: points.MY1.position: a position needs `at: LANDMARK` or "
         "`between: [A, B]` (hint: landmarks of 'back': spine-L2,"),
        ("5", "mine.yaml:8:15: error: points.MY1.position: must be a mapping such as {view: hand-back"),
        ("[{view: back, at: waist}, {view: fac, at: brow-inner}]", "mine.yaml:8:48: error: "
         "points.MY1.position[1].view: unknown view 'fac' (hint: did you mean 'face'?"),
    ],
)  # fmt: skip
def test_check_reports_a_wrong_user_position_where_it_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], position: str, expected: str
) -> None:
    path = _user_point_routine(tmp_path, position)
    assert main(["check", str(path)]) == 2
    out = capsys.readouterr()
    err = out.out + out.err
    assert expected in err, err
    assert err.count(": error: ") == 1 and "Traceback" not in err


def test_the_routine_format_documents_every_view_and_landmark() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "routine-format.md").read_text("utf-8")
    for view in FRAMES.values():
        row = next((line for line in doc.splitlines() if line.startswith(f"| `{view.id}` ")), "")
        assert row, f"docs/routine-format.md has no row for the view {view.id}"
        assert all(f"`{name}`" in row for name in view.landmarks), view.id


class _Text(HTMLParser):
    """What a reader sees or hears read out: text (SVG text included) and the text alternatives."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag == "style"
        self.parts.extend(v or "" for k, v in attrs if k in ("aria-label", "alt"))

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag == "style"

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _english_fragments() -> set[str]:
    """Every piece of English the guide itself writes (placeholders cut out), three letters or more."""
    from voiceguide.guide.words import ENGLISH_WORDS

    out: set[str] = set()
    for key, text in ENGLISH_WORDS.items():
        if key.startswith("find_") or key in ("next_point", "this_point"):
            continue  # patterns matched against the routine, never shown
        for piece in re.split(r"\{\w+\}|\n", text):
            piece = piece.strip(" .,:;()")
            if len(re.sub(r"[^A-Za-z]", "", piece)) >= 3:
                out.add(piece)
    return out


@pytest.mark.parametrize(("language", "lang"), [("de", "de"), ("zh", "zh")])
@pytest.mark.parametrize("name", ["lower-back-pain", "box-breathing"])
def test_german_and_chinese_guides_carry_no_english_headings(
    tmp_path: Path, name: str, language: str, lang: str
) -> None:
    from voiceguide.pipeline import load_routine

    out = tmp_path / "guide.html"
    assert main(["guide", name, "--language", language, "-o", str(out)]) == 0
    page = out.read_text("utf-8")
    assert f'<html lang="{lang}">' in page
    translated = load_routine(name, language=language)
    assert translated.title in page and translated.title != load_routine(name).title
    reader = _Text()
    reader.feed(page)
    text = " ".join(reader.parts)
    english = sorted(
        f for f in _english_fragments() if re.search(rf"(?<![A-Za-z]){re.escape(f)}(?![A-Za-z])", text)
    )
    assert not english, f"English left in the {language} guide: {english}"
    # The English guide has them all, so the check above can fail.
    reader = _Text()
    reader.feed(build_guide(name))
    assert "Before you start" in " ".join(reader.parts)


def test_a_routines_own_language_sets_the_guides_words(tmp_path: Path) -> None:
    path = tmp_path / "de.yaml"
    path.write_text(
        "title: Mein Handpunkt\nlanguage: de\nsteps:\n  - say: Setz dich auf einen Stuhl.\n"
        "  - point: LI4\n    hold: 30s\n",
        "utf-8",
    )
    page = build_guide(path)
    assert '<html lang="de">' in page and "Bevor du beginnst" in page and "Before you start" not in page
    assert "Ein fester Stuhl zum Sitzen" in page  # what you need, found in the German text
    assert "30 Sekunden" in page and "Handrücken" in page


@pytest.mark.parametrize("code", ["de", "es", "fr", "zh"])
def test_every_locale_translates_every_word_of_the_guide(code: str) -> None:
    import yaml

    from voiceguide.guide.words import ENGLISH_WORDS, guide_words

    locale = Path(voiceguide.__file__).parent / "routine" / "locales" / f"{code}.yaml"
    section = yaml.safe_load(locale.read_text("utf-8"))["guide"]
    assert sorted(set(ENGLISH_WORDS) - set(section)) == []
    guide_words.cache_clear()
    assert dict(guide_words(code)) == {**ENGLISH_WORDS, **section}  # loads: placeholders agree


def test_a_guide_word_with_the_wrong_placeholder_is_a_positioned_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from voiceguide.errors import RoutineError
    from voiceguide.guide import words

    broken = tmp_path / "xx.yaml"
    broken.write_text('name: X\nguide:\n  about: "ungefähr {dauer}"\n  headline: Nein\n', "utf-8")
    monkeypatch.setattr(words, "_locale_file", lambda code: broken)
    words.guide_words.cache_clear()
    try:
        with pytest.raises(RoutineError) as caught:
            words.guide_words("xx")
    finally:
        words.guide_words.cache_clear()
    messages = [p.format() for p in caught.value.problems]
    assert any(
        ":3:10: error: guide word 'about' must use the placeholders ['duration']" in m for m in messages
    )
    assert any(":4:13: error: unknown guide word 'headline'" in m for m in messages)


def test_one_breathing_pattern_taught_with_three_cues_is_listed_once() -> None:
    reader = _Text()
    reader.feed(build_guide("box-breathing"))
    text = " ".join(" ".join(reader.parts).split())
    assert text.count("4-4-4-4") == 1
    cues = "a spoken count (3 breaths), then spoken words (5 breaths), then tones (8 breaths)"
    assert f"guided by {cues}" in text
    assert "16 breaths in all" in text
