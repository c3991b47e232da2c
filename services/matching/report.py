"""The report of an allocation run: one self-contained HTML page with charts (matplotlib, PNG
embedded) — invitations per vacancy against what it may get, score and distance distributions,
priority-group shares, coverage by ward."""

from __future__ import annotations

import base64
import html
from collections import Counter
from typing import Any

import numpy as np

from kit import reports
from kit.charts import new_figure, to_png
from reference.geography import geography
from services.matching.index import MatchIndex
from services.matching.models import AllocationRun, Invitation, JobFair

CAPTIONS = {
    "per_vacancy": "Lời mời theo vị trí tuyển dụng, so với số tối đa",
    "scores": "Phân bố điểm phù hợp",
    "distances": "Phân bố khoảng cách nhà – nơi làm việc",
    "priority": "Tỷ lệ lời mời cho nhóm ưu tiên",
    "wards": "Người được mời theo phường, xã nơi ở",
}


def charts(fair: JobFair, run: AllocationRun, invitations: list[Invitation], index: MatchIndex) -> dict[str, bytes]:
    """PNG charts of a run's live invitations, by name."""
    out: dict[str, bytes] = {}
    titles = {}
    caps = {}
    for entry in fair.vacancies:
        vector = index.vacancies.get(entry["vacancy_id"])
        titles[entry["vacancy_id"]] = vector.title if vector else entry["vacancy_id"][:8]
        caps[entry["vacancy_id"]] = vector.openings * fair.invites_per_opening if vector else 0
    per_vacancy = Counter(i.vacancy_id for i in invitations)
    shown = sorted(caps, key=lambda v: -caps[v])[:25]
    fig, ax = new_figure((10, max(3, 0.35 * len(shown))))
    y = np.arange(len(shown))
    ax.barh(y, [caps[v] for v in shown], color="#d0d7e1", label="tối đa (chỉ tiêu × lời mời/chỉ tiêu)")
    ax.barh(y, [per_vacancy.get(v, 0) for v in shown], color="#2f6db5", label="lời mời đã gửi")
    ax.set_yticks(y, [_short(titles[v], 40) for v in shown], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("số lời mời")
    ax.set_title("Lời mời theo vị trí tuyển dụng")
    ax.legend(loc="lower right", fontsize=8)
    out["per_vacancy"] = to_png(fig)

    fig, ax = new_figure((6, 3.2))
    ax.hist([i.score for i in invitations] or [0], bins=20, range=(0, 1), color="#2f6db5")
    ax.set_xlabel("điểm phù hợp")
    ax.set_ylabel("số lời mời")
    ax.set_title("Phân bố điểm phù hợp")
    out["scores"] = to_png(fig)

    km = []
    for i in invitations:
        c = index.candidates.get(i.candidate_id) if i.candidate_id else None
        v = index.vacancies.get(i.vacancy_id)
        if c is not None and v is not None and not np.isnan(c.lat) and not np.isnan(v.lat):
            km.append(float(index.places.km(index.places.of(c.lat, c.lon), index.places.of(v.lat, v.lon))))
    fig, ax = new_figure((6, 3.2))
    ax.hist(km or [0], bins=20, color="#3a9a6b")
    ax.set_xlabel("khoảng cách nhà – nơi làm việc (km)")
    ax.set_ylabel("số lời mời")
    ax.set_title("Phân bố khoảng cách")
    out["distances"] = to_png(fig)

    groups: Counter[str] = Counter()
    for i in invitations:
        c = index.candidates.get(i.candidate_id) if i.candidate_id else None
        for g in (c.priority_groups if c else ()):
            groups[g] += 1
    fig, ax = new_figure((6, 3.2))
    names = sorted(groups, key=lambda g: -groups[g])
    total = max(1, len(invitations))
    ax.bar(range(len(names)), [100 * groups[g] / total for g in names], color="#c7773b")
    ax.set_xticks(range(len(names)), [g.replace("_", " ") for g in names], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("% lời mời")
    target = fair.priority_min_share
    if target:
        ax.axhline(100 * target, color="#b03030", linestyle="--", label=f"mục tiêu {target:.0%} ({', '.join(fair.priority_groups)})")
        ax.legend(fontsize=8)
    ax.set_title("Tỷ lệ lời mời cho nhóm ưu tiên")
    out["priority"] = to_png(fig)

    geo = geography()
    wards: Counter[str] = Counter()
    for i in invitations:
        c = index.candidates.get(i.candidate_id) if i.candidate_id else None
        if c is not None and c.ward:
            wards[c.ward] += 1
    top = wards.most_common(20)
    fig, ax = new_figure((8, max(3, 0.3 * len(top))))
    labels = []
    for code, _n in top:
        try:
            labels.append(geo.ward(code).name)
        except Exception:  # noqa: BLE001 - a code the dataset does not name
            labels.append(code)
    ax.barh(range(len(top)), [n for _c, n in top], color="#6b5bb5")
    ax.set_yticks(range(len(top)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("số lời mời")
    ax.set_title("Người được mời theo phường, xã nơi ở")
    out["wards"] = to_png(fig)
    return out


def render(fair: JobFair, run: AllocationRun, invitations: list[Invitation], index: MatchIndex) -> str:
    pictures = charts(fair, run, invitations, index)
    totals: dict[str, Any] = run.totals or {}
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in [("Lần chạy", run.id), ("Trạng thái", run.status), ("Mục tiêu (tổng điểm)", run.objective),
                                ("Số lời mời", totals.get("invitations")), ("Mới / thu hồi / giữ nguyên",
                                 f"{totals.get('issued')} / {totals.get('revoked')} / {totals.get('kept')}"),
                                ("Tỷ lệ nhóm ưu tiên", totals.get("priority_share")),
                                ("Mã băm dữ liệu đầu vào", run.input_hash), ("Ghi chú", run.message)])
    images = "".join(f'<figure><img alt="{html.escape(CAPTIONS[name])}" src="data:image/png;base64,'
                     f'{base64.b64encode(png).decode()}"><figcaption>{html.escape(CAPTIONS[name])}</figcaption></figure>'
                     for name, png in pictures.items())
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Báo cáo phân bổ lời mời — {html.escape(fair.name)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2rem auto;padding:0 1rem;color:#222}}
table{{border-collapse:collapse}}th,td{{text-align:left;padding:.3rem .8rem;border-bottom:1px solid #ddd}}
figure{{margin:1.5rem 0}}img{{max-width:100%}}</style></head>
<body><h1>Báo cáo phân bổ lời mời</h1>
<p>{html.escape(fair.name)} — ngày {fair.fair_date.strftime('%d/%m/%Y')}, phường/xã {html.escape(fair.venue_ward_code)}
{html.escape(fair.venue_detail or '')}</p>
<table>{rows}</table>{images}</body></html>"""


def fingerprint(fair: JobFair, run: AllocationRun, invitations: list[Invitation], index: MatchIndex) -> str:
    """A digest of everything ``render`` draws from: the fair, the run, its live invitations and
    the versions of the vacancies and people they name in the index. The same digest, the same
    page."""
    invited = sorted((i.id, i.vacancy_id, i.candidate_id, i.score) for i in invitations)
    versions = [getattr(index.vacancies.get(v["vacancy_id"]), "version", None) for v in fair.vacancies]
    versions += [getattr(index.candidates.get(c), "version", None) if c else None for _i, _v, c, _s in invited]
    return reports.fingerprint(fair.id, fair.name, fair.fair_date, fair.venue_ward_code, fair.venue_detail,
                               fair.vacancies, fair.invites_per_opening, fair.priority_min_share, fair.priority_groups,
                               run.id, run.status, run.objective, run.totals, run.input_hash, run.message,
                               invited, versions)


def _short(text: str, width: int) -> str:
    """A label cut to ``width`` characters, with an ellipsis when it was longer."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
