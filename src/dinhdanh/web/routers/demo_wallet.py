"""A demo wallet page (``DINHDANH_ENV=dev`` only): the test wallet (``age.wallet``) kept in
this server's memory, one per browser, so that a person can watch the whole loop: take the
credential offer of the account page, answer a platform's OpenID4VP request, and see the
credential forgotten once shown. A real wallet is an app on the citizen's device."""

from __future__ import annotations

import secrets
from typing import Annotated

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from dinhdanh.age.wallet import Wallet, WalletError, parse_offer, parse_request
from dinhdanh.web.browser import check_csrf, redirect, render, set_cookie
from dinhdanh.web.deps import ContainerDep
from dinhdanh.wiring import Container

router = APIRouter(prefix="/dev", include_in_schema=False)
COOKIE = "__Host-dd_demo_wallet"
MAX_WALLETS = 1000  # demo memory: the oldest wallet goes first
FormStr = Annotated[str, Form(max_length=8000)]


def _wallets(request: Request) -> dict[str, Wallet]:
    store: dict[str, Wallet] = request.app.state.__dict__.setdefault("demo_wallets", {})
    return store


def _wallet(request: Request) -> tuple[str, Wallet]:
    wallets = _wallets(request)
    key = request.cookies.get(COOKIE, "")
    if key not in wallets:
        key = secrets.token_urlsafe(16)
        if len(wallets) >= MAX_WALLETS:
            del wallets[next(iter(wallets))]
        wallets[key] = Wallet()
    return key, wallets[key]


def _page(c: Container, request: Request, outcome: str = "", detail: str = "") -> Response:
    key, wallet = _wallet(request)
    ctx = {"held": len(wallet), "outcome": outcome, "detail": detail}
    response = render(c, request, "demo_wallet.html", ctx, 400 if detail else 200)
    set_cookie(response, COOKIE, key)
    return response


def _http() -> httpx.Client:
    # The client's own source address, any IPv4 one: the dev server listens on IPv4 whatever
    # name the issuer URL uses (localhost may resolve to ::1 first).
    any_ipv4 = "0.0.0.0"  # noqa: S104
    return httpx.Client(transport=httpx.HTTPTransport(local_address=any_ipv4), timeout=30)


def _ours(c: Container, url: str) -> None:
    """This demo talks to this server only: a pasted offer or request names no other host."""
    issuer = c.settings.effective_issuer
    if url != issuer and not str(url).startswith(issuer + "/"):
        raise WalletError("this demo wallet talks to this server only")


@router.get("/wallet")
def wallet_page(request: Request, c: ContainerDep) -> Response:
    return _page(c, request)


@router.post("/wallet/offer")
def take_offer(request: Request, c: ContainerDep, offer: FormStr, csrf: FormStr = "") -> Response:
    if not check_csrf(c, request, csrf):
        return _page(c, request, "offer_refused", "csrf")
    _, wallet = _wallet(request)
    try:
        _ours(c, parse_offer(offer.strip()).get("credential_issuer", ""))
        with _http() as http:
            n = wallet.fetch(http, offer.strip(), c.clock())
    except WalletError as exc:
        return _page(c, request, "offer_refused", str(exc)[:200])
    return redirect(f"/dev/wallet?stored={n}")


@router.post("/wallet/answer")
def answer(request: Request, c: ContainerDep, request_uri: FormStr, csrf: FormStr = "") -> Response:
    if not check_csrf(c, request, csrf):
        return _page(c, request, "answer_refused", "csrf")
    _, wallet = _wallet(request)
    try:
        _ours(c, parse_request(request_uri.strip())["response_uri"])
        with _http() as http:
            resp = wallet.answer(http, request_uri.strip(), c.clock())
    except WalletError as exc:
        return _page(c, request, "answer_refused", str(exc)[:200])
    if resp.status_code != 200:
        return _page(c, request, "answer_refused", resp.json().get("error_description", "")[:200])
    return redirect("/dev/wallet?answered=1")
