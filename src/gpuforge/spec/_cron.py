"""Cron expressions of `cost.schedule` windows: `MIN HOUR * * DOW`, weekly by construction.

Day of month and month must be `*`: a window recurs every week, which is what the clouds'
scheduled scaling (AWS recurrence, Azure autoscale profiles) and a systemd timer all express.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_ITEM = re.compile(r"^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/([0-9]+))?$")
MINUTES_PER_WEEK = 7 * 24 * 60


@dataclass(frozen=True)
class Cron:
    """A parsed weekly cron: minutes, hours, weekdays (0 = Sunday), and its normalised text."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    weekdays: tuple[int, ...]
    text: str

    @property
    def canonical(self) -> str:
        """The expression in plain numbers (`0 20 * * 1,2,3,4,5`): digits, commas, `*`."""

        def _join(values: tuple[int, ...], full: int) -> str:
            return "*" if len(values) == full else ",".join(str(v) for v in values)

        return f"{_join(self.minutes, 60)} {_join(self.hours, 24)} * * {_join(self.weekdays, 7)}"

    def week_minutes(self) -> list[int]:
        """Every firing as minutes since Monday 00:00, sorted."""
        return sorted(
            ((day - 1) % 7) * 1440 + hour * 60 + minute
            for day in self.weekdays
            for hour in self.hours
            for minute in self.minutes
        )


def _value(text: str, low: int, high: int, names: dict[str, int]) -> int:
    if text in names:
        return names[text]
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a number")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}-{high}")
    return value


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> tuple[int, ...]:
    """One cron field; weekdays (`names` given) accept 0-7 and mon-sun, 7 being Sunday."""
    names = names or {}
    top = 7 if names else high
    found: set[int] = set()
    for item in text.lower().split(","):
        match = _ITEM.match(item)
        if not match:
            raise ValueError(f"{item!r} is not a cron item (N, N-M, */S, N-M/S, names mon-sun)")
        span, step_text = match.groups()
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError("a step must be at least 1")
        if span == "*":
            start, end = low, high
        elif "-" in span:
            first, last = span.split("-")
            start, end = _value(first, low, top, names), _value(last, low, top, names)
            if names and end == 0 and start > 0:
                end = 7  # fri-sun
            if start > end:
                raise ValueError(f"range {span!r} runs backwards")
        else:
            start = end = _value(span, low, top, names)
        found.update(v % 7 if names else v for v in range(start, end + 1, step))
    return tuple(sorted(found))


def parse_cron(text: str) -> Cron:
    """Parse `MIN HOUR * * DOW`; ValueError says which field is wrong and what is accepted."""
    parts = str(text).split()
    if len(parts) != 5:
        raise ValueError(
            f"{text!r} is not a 5-field cron expression; write MIN HOUR * * DOW, "
            "e.g. '0 20 * * mon-fri'"
        )
    minute, hour, dom, month, dow = parts
    if dom != "*" or month != "*":
        raise ValueError(f"{text!r}: day of month and month must be '*' (windows recur weekly)")
    try:
        return Cron(
            minutes=_field(minute, 0, 59),
            hours=_field(hour, 0, 23),
            weekdays=_field(dow, 0, 6, _DAYS),
            text=" ".join(parts),
        )
    except ValueError as error:
        raise ValueError(f"{text!r}: {error}") from None


@dataclass(frozen=True)
class ScheduledAction:
    """One scaling action: at every firing of `cron` (UTC), the pool goes to `nodes` nodes."""

    name: str
    cron: Cron
    nodes: int


def scaling_actions(windows: list[tuple[str, str, int]], default: int) -> list[ScheduledAction]:
    """A start and an end action per (start, end, count) window; the end restores `default`."""
    actions = []
    for index, (start, end, count) in enumerate(windows):
        actions.append(ScheduledAction(f"w{index}-start", parse_cron(start), count))
        actions.append(ScheduledAction(f"w{index}-end", parse_cron(end), default))
    return actions


def nodes_by_minute(actions: list[ScheduledAction], default: int) -> list[int]:
    """The pool's node count in each minute of a week (Monday 00:00 first): the last action
    that fired sets it, across the week's end; `default` when no action exists."""
    events = sorted(
        (minute, order, action.nodes)
        for order, action in enumerate(actions)
        for minute in action.cron.week_minutes()
    )
    if not events:
        return [default] * MINUTES_PER_WEEK
    current = events[-1][2]  # the last action of the previous week is still in force
    counts = []
    position = 0
    for minute in range(MINUTES_PER_WEEK):
        while position < len(events) and events[position][0] <= minute:
            current = events[position][2]
            position += 1
        counts.append(current)
    return counts
