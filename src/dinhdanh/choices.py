"""The enumerated values of settings, in a module of their own: the command line offers them
without loading pydantic (``dinhdanh serve --help``)."""

from __future__ import annotations

from enum import StrEnum


class Environment(StrEnum):
    PROD = "prod"
    DEV = "dev"


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
