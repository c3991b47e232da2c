"""HTML reports with charts, as the services serve them: drawn once per state of what they show
(drawing is seconds of matplotlib), shared by callers who ask at once, and answered with an
``ETag`` so that a browser asking again for an unchanged report gets a 304."""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.responses import HTMLResponse

# A self-contained HTML report (charts as data: PNGs, inline style): all it may load.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
# The OpenAPI responses of a report's route.
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}},
    304: {"description": "Unchanged since the `ETag` sent in `If-None-Match`"},
}
ETAG_NOTE = ("The `ETag` changes when anything the report shows changes; send it back in `If-None-Match` "
             "to get a 304 while it has not.")


def fingerprint(*facts: Any) -> str:
    """A digest of everything a report is drawn from: the same digest, the same page."""
    return hashlib.sha256(orjson.dumps(facts, default=str)).hexdigest()


class DrawnReports:
    """The last few pages drawn, by fingerprint. A page asked for by several callers at once is
    drawn once, in a thread; a drawing that failed is not kept."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._pages: OrderedDict[str, asyncio.Future[str]] = OrderedDict()

    async def get(self, digest: str, draw: Callable[[], str]) -> str:
        page = self._pages.get(digest)
        if page is None:
            page = self._pages[digest] = asyncio.ensure_future(asyncio.to_thread(draw))
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(digest)
        try:
            return await asyncio.shield(page)  # a caller that goes away does not cancel the others' page
        except asyncio.CancelledError:
            raise
        except Exception:
            if self._pages.get(digest) is page:
                del self._pages[digest]
            raise


def report_response(request: Request, page: str, digest: str, filename: str) -> Response:
    """The page (or a 304 when the caller holds it already), shown inline, loading nothing."""
    tag = f'"{digest[:32]}"'
    cache = {"ETag": tag, "Cache-Control": "private, no-cache"}  # kept, but asked again each time: it is live
    # weak comparison (RFC 9110 §13.1.2): a cache on the way may have marked the tag weak
    held = {t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")}
    if tag in held or "*" in held:
        return Response(status_code=304, headers=cache)
    return HTMLResponse(page, headers={"Content-Security-Policy": REPORT_CSP,
                                       "Content-Disposition": f'inline; filename="{filename}"', **cache})
