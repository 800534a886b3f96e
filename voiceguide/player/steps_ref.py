"""Where to start playing: a ``--from``/``--preview`` argument turned into a step index.

The command line and :func:`voiceguide.player.session.play` share this so the player itself never
parses arguments, while the messages a user sees for a wrong step stay in one place.
"""

from __future__ import annotations

from collections.abc import Sequence

from voiceguide.errors import UsageError


def resolve_step(titles: Sequence[str], ref: str) -> int:
    """A ``--from``/``--preview`` argument (a step number as ``show`` prints it, or a title).

    Titles match case-insensitively: exactly, else by start, else anywhere; an ambiguous or
    unknown title is a UsageError that lists the steps.
    """
    text = ref.strip()
    last = len(titles) - 1
    if text.isdigit():
        number = int(text)
        if number > last:
            raise UsageError(
                f"there is no step {number}: this routine has steps 0 to {last} "
                "(see `voiceguide show ROUTINE`)"
            )
        return number
    wanted = " ".join(text.lower().split())
    norm = [" ".join(t.lower().split()) for t in titles]
    for rule in (
        lambda t: t == wanted,
        lambda t: t.startswith(wanted),
        lambda t: wanted in t,
    ):
        found = [i for i, t in enumerate(norm) if wanted and rule(t)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            choices = "; ".join(f"{i}. {titles[i]}" for i in found[:6])
            raise UsageError(
                f"step {ref!r} matches several steps ({choices}); give its number or more of its title"
            )
    listing = "; ".join(f"{i}. {t}" for i, t in enumerate(titles[:12]))
    more = " …" if len(titles) > 12 else ""
    raise UsageError(f"no step is called {ref!r}. Steps: {listing}{more}")
