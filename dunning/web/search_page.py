"""搜索: one box, filters, highlighted snippets, originals opened in the browser."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dunning.archive.search.query import SearchHit, search
from dunning.errors import DunningError
from dunning.web.api import BadRequest, query_date, query_int
from dunning.web.guard import guard, state_of

KINDS = ("contract", "ledger", "receipt", "letter", "einvoice")
PAGE = 20  # results on a page, as `dunning search` prints by default


def _search(request: Request) -> Response:
    state, q = state_of(request), request.query_params
    query = q.get("q", "").strip()
    kind = q.get("kind") if q.get("kind") in KINDS else None
    hits: list[SearchHit] = []
    error, limit = None, PAGE
    if query:
        try:
            limit = query_int(q.get("limit"), "limit", PAGE, 1, 1000)
            hits = search(
                state.db(),
                query,
                kind=kind,
                customer=q.get("customer") or None,
                since=query_date(q.get("since"), "since"),
                until=query_date(q.get("until"), "until"),
                limit=limit,
            )
        except (BadRequest, DunningError) as exc:
            error = str(exc)
    return state.render(
        request,
        "search.html",
        code=400 if error else 200,
        query=query,
        kind=kind or "",
        kinds=KINDS,
        customer=q.get("customer", ""),
        since=q.get("since", ""),
        until=q.get("until", ""),
        hits=hits,
        limit=limit,
        more=f"/search?{urlencode({**q, 'limit': limit * 2})}" if len(hits) == limit else None,
        error=error,
    )


@guard()
async def search_page(request: Request) -> Response:
    return await run_in_threadpool(_search, request)


ROUTES = [Route("/search", search_page)]
