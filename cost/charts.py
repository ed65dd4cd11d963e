"""PNG charts for the cost report, rendered with matplotlib's Agg canvas and no metadata, so the bytes
depend only on the figures (the staleness test compares hashes)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

if TYPE_CHECKING:
    from cost.estimate import StageEstimate

COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C")


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def cost_by_layer(estimates: dict[str, dict[str, StageEstimate]], target_usd: float | None = None) -> bytes:
    stages = list(estimates)
    layers = sorted({layer for by in estimates.values() for layer in by["baseline"].by_layer})
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    bottom = [0.0] * len(stages)
    for index, layer in enumerate(layers):
        values = [estimates[s]["baseline"].by_layer.get(layer, 0.0) for s in stages]
        ax.bar(stages, values, bottom=bottom, label=layer, color=COLOURS[index % len(COLOURS)])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for x, total in enumerate(bottom):
        ax.annotate(f"${total:,.0f}", (x, total), ha="center", va="bottom", fontsize=9)
    ax.set_ylim(0, max([*bottom, target_usd or 0.0, 1.0]) * 1.12)  # room for the labels above the bars
    if target_usd:
        ax.axhline(target_usd, color="#333333", linestyle="--", linewidth=1, label=f"prod target ${target_usd:,.0f}")
    ax.set_ylabel("USD per month")
    ax.set_title("Monthly cost by layer (baseline profile)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def baseline_vs_peak(estimates: dict[str, dict[str, StageEstimate]]) -> bytes:
    stages = list(estimates)
    profiles = list(next(iter(estimates.values())))
    width = 0.8 / len(profiles)
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    for index, profile in enumerate(profiles):
        xs = [x + (index - (len(profiles) - 1) / 2) * width for x in range(len(stages))]
        values = [estimates[s][profile].monthly_usd for s in stages]
        ax.bar(xs, values, width=width, label=profile, color=COLOURS[index % len(COLOURS)])
        for x, v in zip(xs, values, strict=True):
            ax.annotate(f"${v:,.0f}", (x, v), ha="center", va="bottom", fontsize=8)
    top = max((estimates[s][p].monthly_usd for s in stages for p in profiles), default=1.0)
    ax.set_ylim(0, max(top, 1.0) * 1.12)
    ax.set_xticks(range(len(stages)), stages)
    ax.set_ylabel("USD per month")
    ax.set_title("Monthly cost per stage: baseline vs peak profile")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def render_charts(estimates: dict[str, dict[str, StageEstimate]], target_usd: float | None = None) -> dict[str, bytes]:
    return {
        "cost_by_layer.png": cost_by_layer(estimates, target_usd),
        "baseline_vs_peak.png": baseline_vs_peak(estimates),
    }
