"""The labour-market report: one self-contained HTML page with charts (matplotlib, PNG embedded,
Vietnamese labels) — shortage by occupation and area, the plan's indicators against their
targets, each fair's funnel, and the demand and supply forecasts with their intervals."""

from __future__ import annotations

import base64
import html
from datetime import date
from typing import Any

import numpy as np

from kit.charts import new_figure, to_png
from reference.occupations import occupations
from services.insights.forecasting import Forecast, add_months
from services.insights.service import Row

STEPS = (("invited", "Được mời"), ("accepted", "Nhận lời"), ("attended", "Đến dự"), ("hired", "Được tuyển"))


def shortage_map(rows: list[Row], top: int = 12) -> bytes:
    """Shortage index by ISCO-08 sub-major group × legacy district, the busiest of each."""
    volume: dict[str, int] = {}
    areas: dict[str, int] = {}
    for r in rows:
        volume[r.keys["occupation2"]] = volume.get(r.keys["occupation2"], 0) + r.candidates + r.openings
        areas[r.keys["district"]] = areas.get(r.keys["district"], 0) + r.candidates + r.openings
    occs = [o for o, _ in sorted(volume.items(), key=lambda kv: -kv[1])[:top]]
    dists = [d for d, _ in sorted(areas.items(), key=lambda kv: -kv[1])[:top]]
    if not rows:
        figure, axes = new_figure((6, 1.5))
        axes.text(0.5, 0.5, "Chưa có người tìm việc hay chỗ làm việc nào vào ngày này", ha="center", va="center")
        axes.axis("off")
        return to_png(figure)
    grid = np.full((len(occs), len(dists)), np.nan)
    for r in rows:
        if r.keys["occupation2"] in occs and r.keys["district"] in dists:
            grid[occs.index(r.keys["occupation2"]), dists.index(r.keys["district"])] = r.shortage_index
    names = occupations()
    figure, axes = new_figure((max(6, 0.7 * len(dists) + 4), max(3, 0.45 * len(occs) + 1.5)))
    image = axes.imshow(grid, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    axes.set_xticks(range(len(dists)), [d or "?" for d in dists], rotation=45, ha="right")
    axes.set_yticks(range(len(occs)), [_occupation_label(names, o) for o in occs])
    axes.set_xlabel("Quận, huyện (mã cũ)")
    axes.set_title("Chỉ số thiếu hụt lao động (+1: thiếu người, −1: thừa người)")
    figure.colorbar(image, ax=axes, shrink=0.8)
    return to_png(figure)


def _occupation_label(names: Any, code: str) -> str:
    if not code:
        return "(chưa rõ nghề)"
    label = names.get(code).label_vi if code in names else None
    return f"{code} {label[:28]}" if label else code


def indicator_gauges(indicators: dict[str, Any]) -> bytes:
    bars = [("Lao động có chứng chỉ nghề, bằng cấp", indicators["vocational_share"]),
            ("Vị trí tuyển dụng có BHXH", indicators["social_insurance_share"])]
    figure, axes = new_figure((7, 2.4))
    for y, (label, share) in enumerate(bars):
        value = share["share"] or 0.0
        axes.barh(y, value, color="#0b7a3e" if share["met"] in (True, None) else "#c0392b")
        axes.text(min(value, 0.9) + 0.01, y, f"{value:.0%}", va="center")
        if share["target"] is not None:
            axes.plot([share["target"]] * 2, [y - 0.4, y + 0.4], color="black", linewidth=2)
            axes.text(share["target"], y + 0.45, f"mục tiêu {share['target']:.0%}", ha="center", fontsize=8)
    axes.set_yticks(range(len(bars)), [b[0] for b in bars])
    axes.set_xlim(0, 1)
    axes.set_title("Chỉ tiêu của kế hoạch")
    return to_png(figure)


def funnel_bars(fairs: list[dict[str, Any]], last: int = 6) -> bytes:
    shown = fairs[-last:]
    figure, axes = new_figure((max(6, 1.4 * len(shown) + 2), 3.2))
    width = 0.2
    for k, (step, label) in enumerate(STEPS):
        axes.bar(np.arange(len(shown)) + (k - 1.5) * width, [f[step] for f in shown], width, label=label)
    axes.set_xticks(range(len(shown)), [f["job_fair_id"][:8] for f in shown])
    axes.set_ylabel("Số người")
    axes.set_title("Phễu phiên giao dịch việc làm")
    axes.legend(fontsize=8)
    return to_png(figure)


def forecast_lines(series: list[tuple[str, date, list[float], Forecast | None]]) -> bytes:
    figure, axes = new_figure((8, 3.4))
    for label, first, history, result in series:
        months = [add_months(first, k) for k in range(len(history))][-24:]
        line, = axes.plot(months, history[-24:], label=f"{label} (thực tế)")
        if result is not None:
            axes.plot(result.months, result.values, linestyle="--", color=line.get_color(),
                      label=f"{label} (dự báo, {'mô hình' if result.method == 'ridge' else 'mùa vụ đơn giản'})")
            axes.fill_between(result.months, result.lower, result.upper, color=line.get_color(), alpha=0.15)
    axes.set_title("Cung – cầu lao động theo tháng và dự báo")
    axes.set_ylabel("Số lượng / tháng")
    axes.legend(fontsize=8)
    figure.autofmt_xdate()
    return to_png(figure)


def render(day: date, charts: dict[str, bytes], indicators: dict[str, Any]) -> str:
    captions = {"shortage": "Thiếu hụt theo nghề và địa bàn", "indicators": "Chỉ tiêu",
                "funnel": "Kết quả các phiên giao dịch", "forecast": "Dự báo cung – cầu"}
    figures = "\n".join(
        f'<figure><img alt="{html.escape(captions[name])}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode()}"><figcaption>{html.escape(captions[name])}</figcaption></figure>'
        for name, png in charts.items())
    placements = indicators["placements"]
    median = indicators["median_days_to_hire"]
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Báo cáo thị trường lao động {day:%d/%m/%Y}</title>
<style>body{{font-family:system-ui,Arial,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#1a1a1a}}
figure{{margin:1.5rem 0}} img{{max-width:100%}} figcaption{{color:#555;font-size:.9rem}}</style></head>
<body><h1>Báo cáo thị trường lao động ngày {day:%d/%m/%Y}</h1>
<p>Tuyển dụng qua phiên giao dịch: {placements['hires']} người, trong đó {placements['priority_hires']} người thuộc
nhóm ưu tiên. Thời gian trung vị từ đăng ký đến khi có việc: {'—' if median is None else f'{median:.0f} ngày'}.</p>
{figures}
</body></html>"""
