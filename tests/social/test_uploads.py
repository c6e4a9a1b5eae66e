"""Graph and label uploads over the API with the platform's key: CSV and Parquet bodies, the
same checks as `dinhdanh import social-graph|social-labels`, rejected rows by line and
reason, re-upload replaces, one platform never uploads for another, the upload size limit."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dinhdanh.social.sybil import load_graph, load_labels
from dinhdanh.web.limits import API_BYTES, STATUS_BATCH_BYTES, limit_for
from dinhdanh.wiring import Container
from tests.social.conftest import Plat, add_platform
from tests.web.test_limits import app, assert_problem_413, drive

__all__ = ["app"]  # the web limits' fixture: an app whose upload limit is 100,000 bytes

CSV = {"content-type": "text/csv"}
PARQUET = {"content-type": "application/vnd.apache.parquet"}


def put(tc: TestClient, plat: Plat, what: str, body: bytes, media: dict[str, str], **q: Any) -> Any:
    return tc.put(
        f"/api/v1/platforms/{plat.code}/social-{what}",
        content=body,
        headers=plat.auth | media,
        params=q,
    )


def parquet(columns: dict[str, list[Any]]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


def edges(c: Container, code: str) -> set[tuple[str, str, float]]:
    g = load_graph(c.settings.data_dir, code)
    coo = g.adj.tocoo()
    names = g.accounts.to_pylist()
    return {
        (names[r], names[k], float(w))
        for r, k, w in zip(coo.row, coo.col, coo.data, strict=True)
        if names[r] < names[k]
    }


def labels(c: Container, code: str) -> dict[str, str]:
    return {r["account"]: r["label"] for r in load_labels(c.settings.data_dir, code).to_pylist()}


def test_csv_and_parquet_bodies_store_the_graph_and_labels(
    container: Container, app_client: TestClient
) -> None:
    zalo = add_platform(container, "zalo")
    resp = put(app_client, zalo, "graph", b"src_account,dst_account,weight\na,b,1\nb,c,2.5\n", CSV)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["total_rows"], body["accepted"], body["rejected"]) == (2, 2, 0)
    assert body["stored"] == {"accounts": 3, "edges": 2}
    assert body["rejected_rows"] == []
    assert edges(container, "zalo") == {("a", "b", 1.0), ("b", "c", 2.5)}
    graph = parquet({"src_account": ["p", "q"], "dst_account": ["q", "r"], "weight": [1.0, 3.0]})
    resp = put(app_client, zalo, "graph", graph, PARQUET)
    assert resp.status_code == 200, resp.text
    assert edges(container, "zalo") == {("p", "q", 1.0), ("q", "r", 3.0)}
    resp = put(app_client, zalo, "labels", b"account,label\na,benign\nc,SYBIL\n", CSV)
    assert resp.status_code == 200, resp.text
    assert resp.json()["stored"] == {"labelled_accounts": 2}
    assert labels(container, "zalo") == {"a": "benign", "c": "sybil"}
    resp = put(app_client, zalo, "labels", parquet({"account": ["q"], "label": ["sybil"]}), PARQUET)
    assert resp.status_code == 200, resp.text
    assert labels(container, "zalo") == {"q": "sybil"}  # replaced, not merged


def test_bad_rows_are_named_by_line_and_reason(
    container: Container, app_client: TestClient
) -> None:
    zalo = add_platform(container, "zalo")
    feed = b"src_account,dst_account,weight\na,b,1\nc,c,1\nd,e,-2\nf,g,x\n,h,1\n"
    resp = put(app_client, zalo, "graph", feed, CSV)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["accepted"], body["rejected"]) == (1, 4)
    assert [(r["line"], r["account"], r["reason"]) for r in body["rejected_rows"]] == [
        (3, "c", "self_loop"),
        (4, "d", "invalid_weight"),
        (5, "f", "invalid_weight"),
        (6, "", "account_missing"),
    ]
    assert body["rejected_rows"][1]["message"] == "weight must be a positive finite number"
    assert body["rejected_rows_truncated"] is False
    # Strict: a problem naming the rows, and the stored graph is the one before.
    resp = put(app_client, zalo, "graph", feed.replace(b"a,b", b"x,y"), CSV, strict=True)
    assert resp.status_code == 422
    assert resp.headers["content-type"] == "application/problem+json"
    problem = resp.json()
    assert problem["code"] == "rows_rejected"
    assert problem["rejected"] == 4
    assert problem["rejected_rows"][0] == {
        "line": 3,
        "account": "c",
        "reason": "self_loop",
        "message": "src_account and dst_account are the same",
    }
    assert edges(container, "zalo") == {("a", "b", 1.0)}
    # No valid edge at all: refused with its rows; Parquet rows are numbered from 1.
    bad = parquet({"src_account": ["a", "b"], "dst_account": ["a", "c"], "weight": [1.0, 0.0]})
    resp = put(app_client, zalo, "graph", bad, PARQUET)
    assert resp.status_code == 422
    assert resp.json()["code"] == "unreadable_file"
    assert [(r["line"], r["reason"]) for r in resp.json()["rejected_rows"]] == [
        (1, "self_loop"),
        (2, "invalid_weight"),
    ]
    labelled = b"account,label\na,benign\nb,maybe\nc,benign\nc,sybil\n"
    resp = put(app_client, zalo, "labels", labelled, CSV)
    assert [(r["line"], r["reason"]) for r in resp.json()["rejected_rows"]] == [
        (3, "invalid_label"),
        (4, "duplicate_conflict"),
        (5, "duplicate_conflict"),
    ]
    assert labels(container, "zalo") == {"a": "benign"}
    assert edges(container, "zalo") == {("a", "b", 1.0)}


def test_unreadable_bodies_and_other_formats_are_refused(
    container: Container, app_client: TestClient
) -> None:
    zalo = add_platform(container, "zalo")
    missing = put(app_client, zalo, "graph", b"src_account,dst_account\na,b\n", CSV)
    assert missing.status_code == 422
    assert missing.json()["code"] == "unreadable_file"
    assert "missing column(s): weight" in missing.json()["detail"]
    broken = put(app_client, zalo, "labels", b"PAR1 not really", PARQUET)
    assert broken.status_code == 422
    assert broken.json()["code"] == "unreadable_file"
    other = put(app_client, zalo, "graph", b'{"src_account": "a"}\n', {"content-type": "x/y"})
    assert other.status_code == 415
    assert other.json()["code"] == "unsupported_media_type"
    assert put(app_client, zalo, "friends", b"a,b\n", CSV).json()["code"] == "validation_failed"


def test_one_platform_never_uploads_for_another(
    container: Container, app_client: TestClient
) -> None:
    zalo, other = add_platform(container, "zalo"), add_platform(container, "other")
    assert put(app_client, zalo, "graph", b"src_account,dst_account,weight\na,b,1\n", CSV)
    for what in ("graph", "labels"):
        url = f"/api/v1/platforms/zalo/social-{what}"
        body = b"src_account,dst_account,weight\nx,y,1\n"
        resp = app_client.put(url, content=body, headers=other.auth | CSV)
        assert resp.status_code == 403
        assert resp.json()["code"] == "forbidden"
        assert app_client.put(url, content=body, headers=CSV).status_code == 401
    assert edges(container, "zalo") == {("a", "b", 1.0)}
    assert labels(container, "zalo") == {}
    assert not (container.settings.data_dir / "social" / "other").exists()


def test_uploads_take_the_configured_size_limit(app: FastAPI) -> None:
    """DINHDANH_MAX_UPLOAD_BYTES (100,000 in this app): a declared length past it reads
    nothing; a chunked body is cut off while it streams to disk."""
    plat = add_platform(app.state.container, "zalo")
    for what in ("graph", "labels"):
        path = f"/api/v1/platforms/zalo/social-{what}"
        sent = drive(app, path, total=1 << 30, headers=CSV, declare=True, method="PUT")
        assert_problem_413(sent, 0)
        sent = drive(
            app, path, headers=CSV | {"authorization": plat.auth["Authorization"]}, method="PUT"
        )
        assert_problem_413(sent, 100_000)


def test_only_the_upload_routes_take_the_upload_limit() -> None:
    """An account id is a free path segment: an account named like an upload route is a
    JSON binding and keeps the API's limit."""
    base = "/api/v1/platforms/zalo"
    assert limit_for(f"{base}/social-graph", 123).max_bytes == 123
    assert limit_for(f"{base}/social-labels", 123).max_bytes == 123
    assert limit_for(f"{base}/accounts:status", 123).max_bytes == STATUS_BATCH_BYTES
    for path in ("accounts/social-graph", "accounts/social-labels", "accounts/accounts:status"):
        assert limit_for(f"{base}/{path}", 123).max_bytes == API_BYTES
