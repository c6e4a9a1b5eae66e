"""The roles of API keys (machine principals and personal officer keys): a module of its own,
so that the command line can offer them without loading the access layer's store."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"
    ADMIN = "admin"
    CARRIER = "carrier"  # scope: the carrier's code; sees and changes only its own subscribers
    PLATFORM = "platform"  # scope: the platform's code; reads only its own accounts' status
    REGISTRAR = "registrar"  # scope: the registrar's code; uploads only its own domain names
    AGENCY_ADMIN = "agency_admin"  # personal: an agency_admin grant's person (posture API)
