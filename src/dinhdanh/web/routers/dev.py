"""Development aids, mounted only when ``DINHDANH_ENV=dev``: the SMS outbox."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dinhdanh.web.browser import render
from dinhdanh.web.deps import ContainerDep

router = APIRouter(prefix="/dev", include_in_schema=False)


@router.get("/outbox")
def outbox(request: Request, c: ContainerDep) -> Response:
    with c.unit_of_work() as session:
        messages = c.auth.outbox.messages(session)
    return render(c, request, "outbox.html", {"messages": messages})
