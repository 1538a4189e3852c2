"""The aging chart: per currency, one bar per bucket, drawn as SVG by the template (no script library)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billops.collections.selectors.aging import Aging
from billops.web.amounts import Shown

BAR_HEIGHT, GAP, LABEL_WIDTH, PLOT_WIDTH = 22, 8, 90, 420


@dataclass(frozen=True)
class Bar:
    label: str
    amount: Shown
    y: int
    width: int  # in the chart's units; the largest bucket fills the plot


@dataclass(frozen=True)
class Chart:
    currency: str
    bars: list[Bar]
    height: int
    label_width: int = LABEL_WIDTH
    plot_width: int = PLOT_WIDTH


def bucket_charts(report: Aging) -> list[Chart]:
    """One chart per currency of the report's totals; negative buckets (credits) draw no bar."""
    charts = []
    for total in report.totals():
        largest = max([*total.buckets, Decimal(0)])
        bars = [
            Bar(
                label=label,
                amount=Shown.of(amount, total.currency),
                y=index * (BAR_HEIGHT + GAP),
                width=int(PLOT_WIDTH * amount / largest) if largest > 0 and amount > 0 else 0,
            )
            for index, (label, amount) in enumerate(zip(report.buckets.labels, total.buckets, strict=True))
        ]
        charts.append(Chart(total.currency, bars, height=len(bars) * (BAR_HEIGHT + GAP)))
    return charts
