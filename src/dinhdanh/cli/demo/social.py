"""Demo social platform: registered like `dinhdanh platforms add`, its client secret and API
key kept in ``demo-social.json`` (0600) so a re-run prints the same ones."""

from __future__ import annotations

import json
from typing import Any

from dinhdanh.cli.common import container_from, fail
from dinhdanh.cli.demo.base import Demo, Seeded, write_private

DEMO_CODE = "demo-social"
DEMO_REDIRECT = "http://127.0.0.1:8081/callback"


def seed(demo: Demo) -> Seeded:
    path = demo.settings.data_dir / "demo-social.json"
    if not path.exists():
        with container_from(demo.ctx) as c, c.unit_of_work() as session:
            if any(p.code == DEMO_CODE for p in c.social.platforms(session)):
                fail(f"platform {DEMO_CODE} exists but {path} is gone: its key was shown once")
            p = c.social.add_platform(
                session, DEMO_CODE, "Mạng xã hội mẫu", [DEMO_REDIRECT], c.clock()
            )
            data = {
                "code": p.code,
                "client_id": p.client.client_id,
                "client_secret": p.client_secret,
                "redirect_uri": DEMO_REDIRECT,
                "api_key": p.api_key,
            }
            # Written before the commit: a failed write leaves no platform whose key is lost.
            write_private(path, json.dumps(data, indent=2) + "\n")
    social: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    line = (
        f"demo social platform {social['code']}: client_id {social['client_id']}, API key "
        f"{social['api_key']} (also in {path})"
    )
    return Seeded({"social_platform": social}, [line])
