"""RDAP over the real app: lookups of domains (U-label and A-label), IP addresses and blocks,
AS numbers and entities; searches with paging; persons redacted for anonymous clients (RFC
9537) and in full for an officer with a legal basis, whose read the person then sees in their
access log; every error an RDAP error object with its HTTP status; the rate limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from dinhdanh.privacy.roles import Role
from dinhdanh.wiring import Container
from tests.internet import rdap_data as d
from tests.internet.factories import ORG, ORG2
from tests.oidc.conftest import log_in
from tests.support import BIRTH_DATE, FULL_NAME, ID_NUMBER, Citizen
from tests.web.test_officer_api import key

MEDIA = "application/rdap+json"
BASIS = {"X-Legal-Basis": "criminal_investigation", "X-Case-Ref": "HN-2026-0412"}
PERSONAL = (FULL_NAME, ID_NUMBER, BIRTH_DATE.isoformat())


@pytest.fixture
def tc(
    app_client: TestClient, container: Container, citizen: Citizen, tmp_path: Path
) -> TestClient:
    d.load(container, tmp_path)
    return app_client


def ok(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == MEDIA
    body: dict[str, Any] = resp.json()
    assert "rdap_level_0" in body["rdapConformance"]
    return body


def rdap_error(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == MEDIA
    body: dict[str, Any] = resp.json()
    assert body["errorCode"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["description"], list)
    assert all(isinstance(x, str) for x in body["description"])
    assert (body["status"], body["code"]) == (status, code)  # and an RFC 9457 problem
    return body


def registrant(body: dict[str, Any]) -> dict[str, Any]:
    [entity] = [e for e in body["entities"] if e["roles"][0] == "registrant"]
    return entity


def vcard(entity: dict[str, Any]) -> dict[str, Any]:
    return {p[0]: p[3] for p in entity["vcardArray"][1]}


def select(doc: Any, path: str) -> list[Any]:
    """What an RFC 9537 prePath of ours names in ``doc``: the forms ``$``, ``.member``,
    ``[n]``, ``[?(@.roles[0]=='x')]`` and ``[?(@[0]=='x')]`` (a test's own reading)."""
    assert path.startswith("$")
    nodes, rest = [doc], path[1:]
    while rest:
        if rest.startswith("[?(@.roles[0]=='"):
            value, _, rest = rest[16:].partition("')]")
            nodes = [x for n in nodes for x in n if x.get("roles", [None])[0] == value]
        elif rest.startswith("[?(@[0]=='"):
            value, _, rest = rest[10:].partition("')]")
            nodes = [x for n in nodes for x in n if x[0] == value]
        elif rest.startswith("["):
            index, _, rest = rest[1:].partition("]")
            nodes = [n[int(index)] for n in nodes if len(n) > int(index)]
        else:
            assert rest.startswith(".")
            member = rest[1:].split(".")[0].split("[")[0]
            rest = rest[1 + len(member) :]
            nodes = [n[member] for n in nodes if member in n]
    return nodes


def test_anonymous_domain_lookup_removes_the_person(tc: TestClient) -> None:
    by_unicode = ok(tc.get(f"/rdap/domain/{d.PERSON_NAME}"))
    by_ace = ok(tc.get(f"/rdap/domain/{d.PERSON_ACE.upper()}"))
    assert by_unicode["handle"] == by_ace["handle"]
    body = by_ace
    assert body["objectClassName"] == "domain"
    assert (body["ldhName"], body["unicodeName"]) == (d.PERSON_ACE, d.PERSON_NAME)
    assert body["status"] == ["active"]
    assert "redacted" in body["rdapConformance"]
    assert [n["ldhName"] for n in body["nameservers"]] == ["ns1.example.vn", "ns2.example.vn"]
    events = {e["eventAction"]: e["eventDate"] for e in body["events"]}
    assert events["registration"] == "2020-01-01T00:00:00Z"
    assert events["expiration"] == "2027-01-01T00:00:00Z"
    [link] = body["links"]
    assert link["rel"] == "self"
    assert link["href"].endswith(f"/rdap/domain/{d.PERSON_ACE}")
    assert body["notices"]
    person = registrant(body)
    assert vcard(person) == {"version": "4.0", "kind": "individual"}
    assert "publicIds" not in person
    registrar = next(e for e in body["entities"] if e["roles"] == ["registrar"])
    assert vcard(registrar)["fn"] == d.REGISTRAR_NAME
    names = [r["name"]["type"] for r in body["redacted"]]
    assert names == [
        "Registrant Name",
        "Registrant ID Number",
        "Registrant Birth Date",
        "Registrant Street",
        "Registrant Phone",
        "Registrant Email",
    ]
    assert {r["method"] for r in body["redacted"]} == {"removal"}
    for r in body["redacted"]:
        assert select(body, r["prePath"]) == []  # removed: nothing left at its path
    text = json.dumps(body, ensure_ascii=False)
    assert not any(value in text for value in PERSONAL)


def test_an_officer_gets_the_full_record_and_the_person_sees_it(
    tc: TestClient, container: Container, citizen: Citizen
) -> None:
    anonymous = ok(tc.get(f"/rdap/domain/{d.PERSON_NAME}"))
    officer = key(container, Role.OFFICER)
    body = ok(tc.get(f"/rdap/domain/{d.PERSON_NAME}", headers=officer | BASIS))
    assert "redacted" not in body
    person = registrant(body)
    card = vcard(person)
    assert (card["fn"], card["bday"]) == (FULL_NAME, BIRTH_DATE.isoformat())
    assert person["publicIds"] == [{"type": "national ID number", "identifier": ID_NUMBER}]
    # Every path the anonymous answer lists as removed names a member the full one has,
    # save those the registry never holds for a registrant (address, phone, email).
    found = {r["name"]["type"]: select(body, r["prePath"]) for r in anonymous["redacted"]}
    assert found["Registrant Name"] == [["fn", {}, "text", FULL_NAME]]
    assert found["Registrant ID Number"] == [person["publicIds"]]
    assert found["Registrant Birth Date"][0][3] == BIRTH_DATE.isoformat()
    entity = ok(tc.get(f"/rdap/entity/{person['handle']}", headers=officer | BASIS))
    assert vcard(entity)["fn"] == FULL_NAME
    log_in(tc, citizen)
    reads = [i for i in tc.get("/api/v1/me/access-log").json()["items"] if i["role"] == "officer"]
    assert len(reads) == 2  # the domain and the entity lookups, nothing for anonymous ones
    assert {"full_name", "id_number", "date_of_birth"} <= set(reads[0]["fields"])
    assert reads[0]["legal_basis"]["code"] == "criminal_investigation"


def test_officer_errors(tc: TestClient, container: Container) -> None:
    url = f"/rdap/domain/{d.PERSON_NAME}"
    officer = key(container, Role.OFFICER)
    rdap_error(tc.get(url, headers=officer), 400, "purpose_required")
    rdap_error(tc.get(url, headers=officer | BASIS | {"X-Case-Ref": "x"}), 400, "case_ref_required")
    rdap_error(
        tc.get(url, headers={"Authorization": "Bearer nope"} | BASIS), 401, "unauthenticated"
    )
    machine = key(container, Role.ADMIN)
    rdap_error(tc.get(url, headers=machine | BASIS), 403, "forbidden")


def test_an_organisation_stays_visible(tc: TestClient) -> None:
    body = ok(tc.get(f"/rdap/domain/{d.COMPANY_NAME}"))
    assert "redacted" not in body
    assert "redacted" not in body["rdapConformance"]
    holder = registrant(body)
    assert holder["handle"] == ORG
    card = vcard(holder)
    assert card["fn"] == "Công ty TNHH Phở Ngon"
    assert card["kind"] == "org"
    assert (
        next(p for p in holder["vcardArray"][1] if p[0] == "adr")[1]["label"]
        == "1 Hàng Bông, Hà Nội"
    )
    stranger = registrant(ok(tc.get(f"/rdap/domain/{d.STRANGER_NAME}")))
    assert stranger["handle"] == ORG2
    assert stranger["remarks"]
    entity = ok(tc.get(f"/rdap/entity/{ORG}"))
    assert entity["objectClassName"] == "entity"
    assert vcard(entity)["fn"] == "Công ty TNHH Phở Ngon"
    assert entity["publicIds"] == [{"type": "tax code", "identifier": ORG}]
    registrar = ok(tc.get(f"/rdap/entity/{d.REGISTRAR.lower()}"))
    assert registrar["handle"] == d.REGISTRAR
    assert registrar["roles"] == ["registrar"]


def test_person_entity_is_redacted_at_the_top(tc: TestClient) -> None:
    domain = ok(tc.get(f"/rdap/domain/{d.PERSON_NAME}"))
    body = ok(tc.get(f"/rdap/entity/{registrant(domain)['handle']}"))
    assert {r["prePath"] for r in body["redacted"]} >= {
        "$.vcardArray[1][?(@[0]=='fn')]",
        "$.publicIds",
    }
    assert not any(v in json.dumps(body, ensure_ascii=False) for v in PERSONAL)
    company = ok(tc.get(f"/rdap/domain/{d.COMPANY_NAME}"))
    rdap_error(tc.get(f"/rdap/entity/P-{company['handle']}"), 404, "not_found")  # no person
    rdap_error(tc.get("/rdap/entity/NOBODY"), 404, "not_found")


def test_ip_lookups(tc: TestClient) -> None:
    sub = ok(tc.get("/rdap/ip/14.160.1.77"))
    assert sub["objectClassName"] == "ip network"
    assert (sub["handle"], sub["startAddress"], sub["endAddress"]) == (
        d.SUB_BLOCK,
        "14.160.1.0",
        "14.160.1.255",
    )
    assert sub["ipVersion"] == "v4"
    assert sub["cidr0_cidrs"] == [{"v4prefix": "14.160.1.0", "length": 24}]
    assert registrant(sub)["handle"] == ORG
    assert ok(tc.get("/rdap/ip/14.170.0.1"))["handle"] == d.BLOCK  # outside the /24
    assert ok(tc.get("/rdap/ip/14.160.0.0/16"))["handle"] == d.BLOCK
    six = ok(tc.get("/rdap/ip/2402:800:1::1"))
    assert (six["handle"], six["ipVersion"]) == (d.BLOCK6, "v6")
    rdap_error(tc.get("/rdap/ip/15.0.0.1"), 404, "not_found")
    rdap_error(tc.get("/rdap/ip/14.160.0.1/8"), 400, "bad_query")  # host bits
    rdap_error(tc.get("/rdap/ip/not-an-address"), 400, "bad_query")


def test_autnum(tc: TestClient) -> None:
    body = ok(tc.get(f"/rdap/autnum/{d.ASN}"))
    assert (body["objectClassName"], body["handle"]) == ("autnum", f"AS{d.ASN}")
    assert body["startAutnum"] == body["endAutnum"] == d.ASN
    assert registrant(body)["handle"] == ORG
    rdap_error(tc.get("/rdap/autnum/45898"), 404, "not_found")
    rdap_error(tc.get("/rdap/autnum/AS45899"), 400, "bad_query")
    rdap_error(tc.get("/rdap/autnum/4294967296"), 400, "bad_query")


def test_domain_errors_and_help(tc: TestClient) -> None:
    rdap_error(tc.get("/rdap/domain/chua-co.vn"), 404, "not_found")
    rdap_error(tc.get("/rdap/domain/-bad-.vn"), 400, "bad_query")
    rdap_error(tc.get("/rdap/domain/" + "a" * 64 + ".vn"), 400, "bad_query")
    rdap_error(tc.get("/rdap/nameserver/ns1.example.vn"), 400, "unsupported_query")
    help_ = ok(tc.get("/rdap/help"))
    assert {"redacted", "paging"} <= set(help_["rdapConformance"])
    assert help_["notices"]


def test_search_pages_and_carries_no_person(tc: TestClient) -> None:
    first = ok(tc.get("/rdap/domains", params={"name": "ph*", "count": 1}))
    assert "paging" in first["rdapConformance"]
    names = [r["ldhName"] for r in first["domainSearchResults"]]
    assert names == [d.COMPANY_NAME]  # A-label order: phongon.com.vn < xn--...
    nxt = first["paging_metadata"]["links"][0]
    assert nxt["rel"] == "next"
    parts = urlsplit(nxt["href"])
    second = ok(tc.get(f"{parts.path}?{parts.query}"))
    assert [r["unicodeName"] for r in second["domainSearchResults"]] == [d.PERSON_NAME]
    assert "links" not in second["paging_metadata"]  # the last page
    for r in first["domainSearchResults"] + second["domainSearchResults"]:
        assert "entities" not in r
    both = ok(tc.get("/rdap/domains", params={"name": "PHỞ*"}))
    assert [r["ldhName"] for r in both["domainSearchResults"]] == [d.PERSON_ACE]
    under = ok(tc.get("/rdap/domains", params={"name": "ph*.com.vn"}))
    assert [r["ldhName"] for r in under["domainSearchResults"]] == [d.COMPANY_NAME]
    exact = ok(tc.get("/rdap/domains", params={"name": d.PERSON_ACE}))
    assert [r["unicodeName"] for r in exact["domainSearchResults"]] == [d.PERSON_NAME]
    assert ok(tc.get("/rdap/domains", params={"name": "zz*"}))["domainSearchResults"] == []


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({}, 400, "bad_query"),
        ({"name": "p*"}, 422, "search_too_broad"),
        ({"name": "ph*ng"}, 400, "bad_query"),
        ({"name": "p*h*"}, 400, "bad_query"),
        ({"name": "p%*"}, 400, "bad_query"),
        ({"name": "ph*", "cursor": "!!"}, 400, "bad_query"),
        ({"name": "ph*", "count": 0}, 422, "validation_failed"),
        ({"name": "ph*", "count": 101}, 422, "validation_failed"),
    ],
)
def test_search_errors(tc: TestClient, params: dict[str, Any], status: int, code: str) -> None:
    rdap_error(tc.get("/rdap/domains", params=params), status, code)


def test_anonymous_queries_are_rate_limited(tc: TestClient, container: Container) -> None:
    container.settings = container.settings.model_copy(update={"rdap_rate_limit": 3})
    for _ in range(3):
        ok(tc.get(f"/rdap/domain/{d.COMPANY_NAME}"))
    refused = tc.get("/rdap/ip/14.160.1.1")
    body = rdap_error(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "retry_after" not in body
    officer = key(container, Role.OFFICER)  # an officer's reads are not limited
    ok(tc.get(f"/rdap/domain/{d.COMPANY_NAME}", headers=officer | BASIS))
