"""The overview's SVG charts: numbers as text and data attributes, escaped, to scale."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from gharts_http.dashboard.charts import Bar, Segment, bar_chart, stacked_bar_chart

SVG = "{http://www.w3.org/2000/svg}"
COLOURS = {"pending": "#d4a72c", "online": "#1a7f37", "busy": "#0550ae"}


def _parsed(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314 - our own markup, parsed to check it is well formed


def _widths(svg: ET.Element) -> dict[str, float]:
    return {
        f"{rect.get('data-series')}": float(rect.get("width", "0"))
        for rect in svg.iter(f"{SVG}rect")
        if rect.get("data-series")
    }


def test_a_stacked_bar_chart_states_every_number_in_its_title_desc_and_attributes() -> None:
    markup = stacked_bar_chart(
        "runners",
        "Runners by status",
        [
            ("demo", [Segment("pending", 2), Segment("online", 1), Segment("busy", 0)]),
            ("ml", [Segment("pending", 0), Segment("online", 0), Segment("busy", 6)]),
        ],
        colours=COLOURS,
    )
    svg = _parsed(markup)
    assert "img" == svg.get("role")
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    assert "Runners by status" == title.text
    assert "demo: 3 runners (2 pending, 1 online); ml: 6 runners (6 busy)." == desc.text
    assert f"{title.get('id')} {desc.get('id')}" == svg.get("aria-labelledby")
    bars = {g.get("data-label"): g for g in svg.iter(f"{SVG}g") if g.get("data-label")}
    assert {"demo": "3", "ml": "6"} == {k: g.get("data-total") for k, g in bars.items()}
    demo = bars["demo"]
    assert {"pending": "2", "online": "1"} == {
        r.get("data-series"): r.get("data-value") for r in demo.iter(f"{SVG}rect")
    }  # a zero segment is not drawn
    assert ["demo", "3"] == [t.text for t in demo.iter(f"{SVG}text")]
    # One scale for every bar: the largest total (6) fills the plot, 1 of it is a sixth.
    assert 420.0 == _widths(bars["ml"])["busy"]
    assert 70.0 == _widths(demo)["online"]


def test_labels_and_series_are_escaped_and_an_empty_chart_says_so() -> None:
    hostile = '<script>alert("x")</script>'
    markup = stacked_bar_chart(
        "runners", "Runners & more", [(hostile, [Segment("pending", 1)])], colours=COLOURS
    )
    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
    svg = _parsed(markup)
    assert hostile == next(g for g in svg.iter(f"{SVG}g") if g.get("data-label")).get("data-label")
    empty = _parsed(stacked_bar_chart("x", "Nothing", [], colours=COLOURS, empty="No runners."))
    desc = empty.find(f"{SVG}desc")
    assert desc is not None
    assert "No runners." == desc.text


def test_a_bar_chart_draws_gauges_against_their_maximum_and_others_to_one_scale() -> None:
    markup = bar_chart(
        "quota",
        "Quota use",
        [
            Bar("demo", 3, maximum=10),
            Bar("full", 12, maximum=10),
            Bar("open", 4, note="4, no quota"),
            Bar("open2", 2),
        ],
    )
    svg = _parsed(markup)
    desc = svg.find(f"{SVG}desc")
    assert desc is not None
    assert "demo: 3 of 10; full: 12 of 10; open: 4, no quota; open2: 2." == desc.text
    bars = {g.get("data-label"): g for g in svg.iter(f"{SVG}g") if g.get("data-label")}
    assert "10" == bars["demo"].get("data-maximum")
    assert bars["open"].get("data-maximum") is None

    def filled(label: str) -> float:
        return float(list(bars[label].iter(f"{SVG}rect"))[-1].get("width", "0"))

    assert 126.0 == filled("demo")  # 3 of 10 of the 420 wide plot
    assert 420.0 == filled("full")  # over the maximum: full, never wider
    assert 420.0 == filled("open")  # the largest unbounded value sets their scale
    assert 210.0 == filled("open2")
    assert re.search(r">12 of 10</text>", markup)
