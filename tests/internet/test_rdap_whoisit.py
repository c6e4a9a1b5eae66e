"""An independent RDAP client, `whoisit` from PyPI, parses our answers: a live server (uvicorn
in a thread) with bootstrap data pointing `vn`, our IP blocks and our AS number at it, and a
registry endpoint override for entity lookups. Redaction is checked on what whoisit parsed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from ipaddress import ip_network
from pathlib import Path

import pytest
import requests
import uvicorn
import whoisit

from dinhdanh.privacy.roles import Role
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container
from tests.internet import rdap_data as d
from tests.internet.factories import ORG
from tests.support import BIRTH_DATE, FULL_NAME, ID_NUMBER, Citizen, free_port
from tests.web.test_officer_api import key

RIR = "vnnic"


@pytest.fixture
def server(container: Container, citizen: Citizen, tmp_path: Path) -> Iterator[str]:
    d.load(container, tmp_path)
    port = free_port()
    live = uvicorn.Server(
        uvicorn.Config(create_app(container), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=live.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not live.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start within 30 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/rdap/"
    finally:
        live.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def client(server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """whoisit bootstrapped at our server (its bootstrap state is global: cleared after)."""
    services = {
        "asn": [[[str(d.ASN)], [server]]],
        "dns": [[["vn"], [server]]],
        "ipv4": [[[d.BLOCK], [server]]],
        "ipv6": [[[d.BLOCK6], [server]]],
        "object": [[["VN"], [server]]],
    }
    data = {"timestamp": int(time.time())} | {k: {"services": v} for k, v in services.items()}
    whoisit.clear_bootstrapping()
    whoisit.load_bootstrap_data(json.dumps(data), allow_insecure=True)
    boot = whoisit._bootstrap  # entity lookups name a registry: ours
    monkeypatch.setattr(boot, "RIR_RDAP_ENDPOINTS", {**boot.RIR_RDAP_ENDPOINTS, RIR: server})
    try:
        yield server
    finally:
        whoisit.clear_bootstrapping()
        whoisit.clear_session()  # a session passed to a query becomes whoisit's default


def test_whoisit_parses_a_redacted_domain(client: str) -> None:
    parsed = whoisit.domain(d.PERSON_NAME)
    assert parsed["type"] == "domain"
    assert parsed["name"].lower() == d.PERSON_ACE
    assert parsed["url"] == client + f"domain/{d.PERSON_ACE}"
    assert parsed["nameservers"] == ["ns1.example.vn", "ns2.example.vn"]
    assert parsed["registration_date"].year == 2020
    assert parsed["expiration_date"].year == 2027
    [person] = parsed["entities"]["registrant"]
    assert person["kind"] == "individual"
    assert "name" not in person
    assert "person" not in person
    assert "public_ids" not in person
    [registrar] = parsed["entities"]["registrar"]
    assert registrar["name"] == d.REGISTRAR_NAME
    assert parsed["redacted"] == [
        "Registrant Name",
        "Registrant ID Number",
        "Registrant Birth Date",
        "Registrant Street",
        "Registrant Phone",
        "Registrant Email",
    ]
    text = repr(parsed)
    assert FULL_NAME not in text
    assert ID_NUMBER not in text
    assert BIRTH_DATE.isoformat() not in text


def test_whoisit_parses_an_organisation_domain_in_full(client: str) -> None:
    parsed = whoisit.domain(d.COMPANY_NAME)
    [holder] = parsed["entities"]["registrant"]
    assert holder["handle"] == ORG
    assert holder["name"] == "Công ty TNHH Phở Ngon"
    assert holder["address"]["label"] == "1 Hàng Bông, Hà Nội"
    assert parsed["redacted"] == []


def test_whoisit_parses_ip_networks(client: str) -> None:
    sub = whoisit.ip("14.160.1.9")
    assert sub["type"] == "ip network"
    assert sub["network"] == ip_network(d.SUB_BLOCK)
    assert sub["cidrs"] == [ip_network(d.SUB_BLOCK)]
    assert sub["ip_version"] == 4
    assert sub["country"] == "VN"
    assert sub["entities"]["registrant"][0]["name"] == "Công ty TNHH Phở Ngon"
    assert whoisit.ip("14.170.0.1")["network"] == ip_network(d.BLOCK)
    six = whoisit.ip("2402:800:1::1")
    assert (six["network"], six["ip_version"]) == (ip_network(d.BLOCK6), 6)


def test_whoisit_parses_an_autnum(client: str) -> None:
    parsed = whoisit.asn(d.ASN)
    assert parsed["type"] == "autnum"
    assert parsed["asn_range"] == [d.ASN, d.ASN]
    assert parsed["name"] == "PHO-NGON-AS"
    assert parsed["entities"]["registrant"][0]["handle"] == ORG


def test_whoisit_parses_entities(client: str, container: Container) -> None:
    org = whoisit.entity(ORG, rir=RIR)
    assert org["type"] == "entity"
    assert org["name"] == "Công ty TNHH Phở Ngon"
    handle = whoisit.domain(d.PERSON_NAME)["entities"]["registrant"][0]["handle"]
    person = whoisit.entity(handle, rir=RIR)
    assert person["redacted"][:3] == [
        "Registrant Name",
        "Registrant ID Number",
        "Registrant Birth Date",
    ]
    assert FULL_NAME not in repr(person)
    # An officer's answer parses with the stated record (whoisit takes a requests session).
    session = requests.Session()
    session.headers.update(key(container, Role.OFFICER))
    session.headers.update({"X-Legal-Basis": "court_order", "X-Case-Ref": "TA-2026-77"})
    full = whoisit.entity(handle, rir=RIR, session=session)
    assert full["redacted"] == []
    assert full["name"] == FULL_NAME
    assert full["public_ids"] == [{"type": "national ID number", "identifier": ID_NUMBER}]
