"""The account page's age credentials (issue 11, points 5 and 6): a signed-in citizen with a
fresh authentication gets a Credential Offer (OpenID4VCI, pre-authorized code) for their
wallet, or revokes all their credentials. How many are active is shown on ``/account``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.requests import Request
from fastapi.responses import Response

from dinhdanh.age.credentials.vci import Issuance
from dinhdanh.web.browser import check_csrf, redirect, render
from dinhdanh.web.deps import ContainerDep
from dinhdanh.web.portal import CITIZEN
from dinhdanh.web.routers.auth import bad_csrf, fresh_account

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form()]


@router.post("/account/age-credentials/offer")
def age_credential_offer(request: Request, c: ContainerDep, csrf: FormStr = "") -> Response:
    """A Credential Offer by value (``openid-credential-offer://...``): one batch, once,
    within ``offer_ttl``. The page shows it as a link and as text to copy to the wallet."""
    if not check_csrf(c, request, csrf):
        return bad_csrf(c, request)
    with c.unit_of_work() as session:
        account = fresh_account(c, session, request, "/account")
        if isinstance(account, Response):
            return account
        offer = c.age_issuance.offer(session, account.subject_id, c.clock())
    ctx = {
        "offer_uri": Issuance.offer_uri(offer),
        "minutes": int(c.age_issuance.offer_ttl.total_seconds() // 60),
        "batch": c.age_credentials.max_batch,
    }
    return render(c, request, "age_offer.html", ctx, roles=CITIZEN)


@router.post("/account/age-credentials/revoke")
def age_credentials_revoke(request: Request, c: ContainerDep, csrf: FormStr = "") -> Response:
    """Revoke every age credential of the citizen: their status bits flip at once."""
    if not check_csrf(c, request, csrf):
        return bad_csrf(c, request)
    with c.unit_of_work() as session:
        account = fresh_account(c, session, request, "/account")
        if isinstance(account, Response):
            return account
        c.age_credentials.revoke_all(session, account.subject_id, c.clock())
    return redirect("/account?age_revoked=1")
