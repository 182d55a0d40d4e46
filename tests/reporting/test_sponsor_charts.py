"""The server-drawn trend charts (reporting/charts.py): well-formed SVG with its words, a gap
for a month with nothing to show, the month being read highlighted, any number of months."""

from datetime import date
from decimal import Decimal
from xml.etree import ElementTree

from reporting.charts import trend_svg
from reporting.sponsor import FREQUENCY, NPS, RATE, Trend, TrendPoint

SVG = "{http://www.w3.org/2000/svg}"


def trend(values: list, kind: str = RATE, label: str = "Notes logged", target: int = 80) -> Trend:
    points = []
    for n, value in enumerate(values):
        month = date(2026 + (n // 12), n % 12 + 1, 1)
        if value == "suppressed":
            points.append(TrendPoint(month, None, "fewer than 5 responses", True))
        elif value is None:
            points.append(TrendPoint(month, None, "no data", False))
        else:
            points.append(TrendPoint(month, Decimal(value), f"{value}%", False))
    return Trend(
        kpi="notes_logged",
        label=label,
        kind=kind,
        target=Decimal(target),
        target_text="target 80%",
        points=points,
        min_group=5,
    )


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 (our own SVG)


def test_it_draws_a_line_with_a_gap_and_says_each_month_in_words():
    svg = trend_svg(trend([50, 60, "suppressed", 90, None, 70]), highlight=date(2026, 4, 1))
    root = parse(svg)

    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-notes_logged-title chart-notes_logged-desc"
    assert root.find(f"{SVG}title").text == "Notes logged, month by month"
    assert root.find(f"{SVG}desc").text == (
        "January 2026: 50%; February 2026: 60%; March 2026: fewer than 5 responses; "
        "April 2026: 90%; May 2026: no data; June 2026: 70%. Target 80%."
    )
    # One line, January to February: none across the gaps (April and June stand alone).
    assert len(root.findall(f"{SVG}polyline")) == 1
    assert len(root.findall(f"{SVG}circle")) == 4
    # The month being read is marked, with its value written beside it.
    assert "90%" in [text.text for text in root.findall(f"{SVG}text")]


def test_it_escapes_every_text():
    svg = trend_svg(trend([50], label='<script>alert("x")</script>'))

    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    parse(svg)


def test_it_draws_one_month_none_and_many():
    assert parse(trend_svg(trend([40]))).find(f"{SVG}circle") is not None
    empty = parse(trend_svg(trend([])))
    assert empty.find(f"{SVG}desc").text == "No months with figures yet; target 80%."
    many = parse(trend_svg(trend(list(range(0, 100, 4)))))  # 25 months
    labels = [t.text for t in many.findall(f"{SVG}text")]
    assert len([label for label in labels if label and label.isalpha()]) <= 13
    assert "2027" in labels  # each January gets its year


def test_it_scales_each_kind_of_figure():
    frequency = parse(trend_svg(trend([1, 2.5], kind=FREQUENCY, target=2)))
    nps = parse(trend_svg(trend([-40, 30], kind=NPS, target=30)))

    assert {"0", "3"} <= {t.text for t in frequency.findall(f"{SVG}text")}
    assert {"-100", "0", "+100"} <= {t.text for t in nps.findall(f"{SVG}text")}
