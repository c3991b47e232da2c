"""The reports' cache: drawn once per fingerprint, shared by callers at once, never a
cached failure, the least recently asked for dropped first."""

from __future__ import annotations

import asyncio
import threading

import pytest

from kit.reports import DrawnReports


class Drawer:
    def __init__(self) -> None:
        self.calls = 0
        self.gate = threading.Event()

    def draw(self, page: str, fail: bool = False) -> str:
        self.calls += 1
        self.gate.wait(5)
        if fail:
            raise RuntimeError("matplotlib broke")
        return page


async def test_callers_at_once_share_one_drawing_and_later_ones_get_it_without_drawing() -> None:
    reports, drawer = DrawnReports(), Drawer()
    waiting = [asyncio.create_task(reports.get("f1", lambda: drawer.draw("<p>1</p>"))) for _ in range(3)]
    await asyncio.sleep(0.05)
    drawer.gate.set()
    assert await asyncio.gather(*waiting) == ["<p>1</p>"] * 3
    assert await reports.get("f1", lambda: drawer.draw("never")) == "<p>1</p>"
    assert drawer.calls == 1


async def test_a_caller_that_goes_away_does_not_cancel_the_others() -> None:
    reports, drawer = DrawnReports(), Drawer()
    first = asyncio.create_task(reports.get("f1", lambda: drawer.draw("<p>1</p>")))
    second = asyncio.create_task(reports.get("f1", lambda: drawer.draw("never")))
    await asyncio.sleep(0.05)
    first.cancel()
    drawer.gate.set()
    assert await second == "<p>1</p>"
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_failed_drawing_is_not_kept() -> None:
    reports, drawer = DrawnReports(), Drawer()
    drawer.gate.set()
    with pytest.raises(RuntimeError):
        await reports.get("f1", lambda: drawer.draw("x", fail=True))
    assert await reports.get("f1", lambda: drawer.draw("<p>again</p>")) == "<p>again</p>"
    assert drawer.calls == 2


async def test_the_least_recently_asked_for_is_dropped_first() -> None:
    reports, drawer = DrawnReports(size=2), Drawer()
    drawer.gate.set()
    for name in ("a", "b", "a", "c"):  # "a" asked for again: "b" is the oldest when "c" comes
        await reports.get(name, lambda name=name: drawer.draw(name))
    assert drawer.calls == 3
    assert await reports.get("a", lambda: drawer.draw("new a")) == "a"
    assert await reports.get("b", lambda: drawer.draw("new b")) == "new b"


@pytest.mark.parametrize(("held", "status"), [(None, 200), ('"other"', 200), ('"other", "DIGEST"', 304),
                                              ('W/"DIGEST"', 304), ("*", 304)])
def test_a_page_the_caller_holds_is_a_304(held: str | None, status: int) -> None:
    from starlette.requests import Request

    from kit.reports import report_response

    digest = "ab" * 32
    headers = [(b"if-none-match", held.replace("DIGEST", digest[:32]).encode())] if held else []
    response = report_response(Request({"type": "http", "headers": headers}), "<p>page</p>", digest, "r.html")
    assert response.status_code == status and response.headers["etag"] == f'"{digest[:32]}"'
    assert (response.body == b"<p>page</p>") == (status == 200)
    if status == 200:
        assert "img-src data:" in response.headers["content-security-policy"]
        assert response.headers["content-disposition"] == 'inline; filename="r.html"'
