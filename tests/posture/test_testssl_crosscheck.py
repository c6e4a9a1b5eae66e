"""Our TLS protocol findings cross-checked against testssl.sh (Debian package) on the same
local servers: what it calls offered among SSLv2..TLS 1.1 is what TLS_PROTOCOL_OBSOLETE
names, and a modern server has neither."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dinhdanh.posture import aio
from dinhdanh.posture.checks.tls import TlsObservation, check_tls, load_roots
from dinhdanh.posture.probes import Sslyze, probe_tls
from dinhdanh.posture.targets import Target
from tests.posture.servers import http_server, make_ca, make_leaf, tls_context
from tests.posture.test_tls import SSLYZE

TESTSSL = shutil.which("testssl") or shutil.which("testssl.sh")
pytestmark = pytest.mark.skipif(
    TESTSSL is None or not SSLYZE.exists(), reason="needs testssl.sh (Debian) and .venv-sslyze"
)
OBSOLETE_IDS = {"SSLv2": "SSL_2_0", "SSLv3": "SSL_3_0", "TLS1": "TLS_1_0", "TLS1_1": "TLS_1_1"}


def obsolete_per_testssl(target: Target, out: Path) -> set[str]:
    subprocess.run(
        [str(TESTSSL), "--quiet", "--color", "0", "--warnings", "off", "-p",
         "--jsonfile", str(out), f"{target.host}:{target.port}"],
        capture_output=True, timeout=300, check=False,
    )  # fmt: skip
    items = json.loads(out.read_text("utf-8"))
    return {
        OBSOLETE_IDS[i["id"]]
        for i in items
        if i["id"] in OBSOLETE_IDS and i["finding"].startswith("offered")
    }


def test_protocols_agree_with_testssl(tmp_path: Path) -> None:
    ca = make_ca()
    servers = {
        "127.10.6.1": ((ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_2), "DEFAULT:@SECLEVEL=0"),
        "127.10.6.2": ((ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3), None),
    }
    with ExitStack() as stack:
        targets = []
        for host, (versions, ciphers) in servers.items():
            cert, key = make_leaf([host], ca).write(tmp_path, host)
            ctx = tls_context(cert, key, versions=versions, ciphers=ciphers)
            port = stack.enter_context(http_server(host, context=ctx))
            targets.append(Target("https", host, port))
        with ThreadPoolExecutor(len(targets)) as pool:
            theirs = list(
                pool.map(lambda t: obsolete_per_testssl(t, tmp_path / f"{t.host}.json"), targets)
            )
        ours_obs = aio.run(probe_tls(Sslyze(str(SSLYZE), None), targets, timeout=10))
    roots = load_roots(ca.pem())
    for target, their_set in zip(targets, theirs, strict=True):
        obs = ours_obs[target.url]
        assert isinstance(obs, TlsObservation)
        found = [
            f for f in check_tls(obs, roots, datetime.now(UTC)) if f.code == "TLS_PROTOCOL_OBSOLETE"
        ]
        ours = set(found[0].evidence["protocols"]) if found else set()
        assert ours == their_set, (target, ours, their_set)
    assert theirs[0] >= {"TLS_1_0", "TLS_1_1"}  # the old server really was old
    assert theirs[1] == set()
