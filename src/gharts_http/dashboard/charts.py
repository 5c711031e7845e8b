"""Server-side SVG charts for the admin overview: pure functions from numbers to markup.

Every chart is an ``<svg role="img">`` whose ``<title>`` names it and whose ``<desc>`` states
every number in words, so a screen reader reads the figures a sighted person sees. Each bar and
segment carries its figures as ``data-*`` attributes and a ``<title>`` of its own (the tooltip),
and every number is also drawn as ``<text>``. Labels are escaped: team names come from admins.
Colours are presentation attributes, not ``style``, so the dashboard's CSP holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import attrs
from markupsafe import Markup, escape

__all__ = ["Bar", "Segment", "bar_chart", "stacked_bar_chart"]

_LABEL_WIDTH = 150
_PLOT_WIDTH = 420
_VALUE_WIDTH = 130
_ROW = 28
_BAR = 18
_TOP = 6
_LEGEND_ROW = 22
_DEFAULT_COLOUR = "#57606a"
_ID_CHARS = re.compile(r"[^a-z0-9-]+")


@attrs.frozen
class Segment:
    """One part of a stacked bar: a series name and its count."""

    series: str
    value: int


@attrs.frozen
class Bar:
    """One row of a chart: its label, its value and, for a gauge, the value's maximum.

    ``maximum`` is ``None`` for a bar without a bound (an unlimited quota); ``note`` is the text
    drawn after the bar (the value when empty).
    """

    label: str
    value: int
    maximum: int | None = None
    note: str = ""


def _chart_id(name: str) -> str:
    return "chart-" + (_ID_CHARS.sub("-", name.lower()).strip("-") or "chart")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _open(name: str, title: str, description: str, height: int) -> list[str]:
    chart = _chart_id(name)
    width = _LABEL_WIDTH + _PLOT_WIDTH + _VALUE_WIDTH
    return [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'data-chart="{escape(name)}" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" aria-labelledby="{chart}-title {chart}-desc">'
        ),
        f'<title id="{chart}-title">{escape(title)}</title>',
        f'<desc id="{chart}-desc">{escape(description)}</desc>',
    ]


def _label(y: int, text: str) -> str:
    return (
        f'<text x="{_LABEL_WIDTH - 8}" y="{y + _BAR - 4}" text-anchor="end" '
        f'class="chart-label">{escape(text)}</text>'
    )


def _value(y: int, text: str, x: int = _LABEL_WIDTH + _PLOT_WIDTH + 6) -> str:
    return f'<text x="{x}" y="{y + _BAR - 4}" class="chart-value">{escape(text)}</text>'


def stacked_bar_chart(
    name: str,
    title: str,
    bars: Sequence[tuple[str, Sequence[Segment]]],
    *,
    colours: Mapping[str, str],
    unit: str = "runner",
    empty: str = "Nothing to show.",
) -> Markup:
    """Return a horizontal stacked bar chart: one bar per label, one segment per series.

    ``bars`` pairs each label with its segments (zero counts are left out of the drawing and of
    the description); all bars share one scale, the largest total. ``colours`` maps a series to
    its fill, and the legend lists the series in that order.
    """
    totals = [sum(segment.value for segment in segments) for _, segments in bars]
    largest = max(totals, default=0)
    words = [
        f"{label}: {_plural(total, unit)}"
        + (
            " (" + ", ".join(f"{s.value} {s.series}" for s in segments if s.value > 0) + ")"
            if total
            else ""
        )
        for (label, segments), total in zip(bars, totals, strict=True)
    ]
    description = "; ".join(words) + "." if bars else empty
    height = _TOP + _ROW * max(1, len(bars)) + _LEGEND_ROW + 4
    parts = _open(name, title, description, height)
    if not bars:
        parts.append(_value(_TOP, empty, x=_LABEL_WIDTH))
    for row, ((label, segments), total) in enumerate(zip(bars, totals, strict=True)):
        y = _TOP + row * _ROW
        parts.append(f'<g class="chart-bar" data-label="{escape(label)}" data-total="{total}">')
        parts.append(_label(y, label))
        x = float(_LABEL_WIDTH)
        for segment in segments:
            if segment.value <= 0:
                continue
            width = _PLOT_WIDTH * segment.value / largest
            colour = colours.get(segment.series, _DEFAULT_COLOUR)
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{_BAR}" '
                f'fill="{escape(colour)}" data-series="{escape(segment.series)}" '
                f'data-value="{segment.value}"><title>{escape(label)}: '
                f"{segment.value} {escape(segment.series)}</title></rect>"
            )
            x += width
        parts.append(_value(y, str(total)))
        parts.append("</g>")
    parts.append(_legend(_TOP + _ROW * max(1, len(bars)), colours))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated value is escaped above


def _legend(y: int, colours: Mapping[str, str]) -> str:
    items = []
    x = _LABEL_WIDTH
    for series, colour in colours.items():
        items.append(
            f'<rect x="{x}" y="{y + 4}" width="12" height="12" fill="{escape(colour)}"/>'
            f'<text x="{x + 16}" y="{y + 15}" class="chart-legend">{escape(series)}</text>'
        )
        x += 24 + 8 * len(series)
    return f'<g class="chart-key" aria-hidden="true">{"".join(items)}</g>'


def bar_chart(
    name: str,
    title: str,
    bars: Sequence[Bar],
    *,
    colour: str = "#0550ae",
    empty: str = "Nothing to show.",
) -> Markup:
    """Return a horizontal bar chart, one bar per :class:`Bar`.

    A bar with a ``maximum`` is drawn against it (a gauge: quota use, rate-limit budget) over a
    pale track; bars without one share the scale of the largest value. The description reads
    each bar as ``label: note`` (the note defaults to the value, or ``value of maximum``).
    """
    largest = max((bar.value for bar in bars if bar.maximum is None), default=0)
    notes = [bar.note or _default_note(bar) for bar in bars]
    description = (
        "; ".join(f"{bar.label}: {note}" for bar, note in zip(bars, notes, strict=True)) + "."
        if bars
        else empty
    )
    height = _TOP + _ROW * max(1, len(bars))
    parts = _open(name, title, description, height)
    if not bars:
        parts.append(_value(_TOP, empty, x=_LABEL_WIDTH))
    for row, (bar, note) in enumerate(zip(bars, notes, strict=True)):
        y = _TOP + row * _ROW
        scale = bar.maximum if bar.maximum is not None else largest
        fraction = min(1.0, bar.value / scale) if scale else 0.0
        maximum = "" if bar.maximum is None else f' data-maximum="{bar.maximum}"'
        parts.append(
            f'<g class="chart-bar" data-label="{escape(bar.label)}" data-value="{bar.value}"'
            f"{maximum}>"
        )
        parts.append(_label(y, bar.label))
        if bar.maximum is not None:
            parts.append(
                f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{_PLOT_WIDTH}" height="{_BAR}" '
                f'fill="#eaeef2"/>'
            )
        parts.append(
            f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{_PLOT_WIDTH * fraction:.1f}" '
            f'height="{_BAR}" fill="{escape(colour)}"><title>{escape(bar.label)}: '
            f"{escape(note)}</title></rect>"
        )
        parts.append(_value(y, note))
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated value is escaped above


def _default_note(bar: Bar) -> str:
    return str(bar.value) if bar.maximum is None else f"{bar.value} of {bar.maximum}"
