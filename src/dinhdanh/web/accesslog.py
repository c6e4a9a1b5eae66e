"""The server's access log, without personal data.

Query strings are dropped (a ``next``, a ``login_hint`` or a client's own parameters may
carry anything), and runs of nine or more digits in the path are masked: ID numbers and
phone numbers (``/account/numbers/{msisdn}/...``) never reach a log file.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

_DIGITS = re.compile(r"\+?\d{9,}")
MASK = "***"


def scrub(target: str) -> str:
    """A request target as it may be logged: the path only, long digit runs masked."""
    return _DIGITS.sub(MASK, target.partition("?")[0])


class ScrubTarget(logging.Filter):
    """For uvicorn's access logger: its arguments are (client, method, target, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], scrub(args[2]), *args[3:])
        return True


def uvicorn_log_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["scrub"] = {"()": f"{__name__}.ScrubTarget"}
    config["handlers"]["access"]["filters"] = ["scrub"]
    return config
