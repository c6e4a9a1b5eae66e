"""Errors of the posture domain (DomainErrors: the web layer renders them as problems)."""

from __future__ import annotations

from dinhdanh.errors import DomainError


class PostureError(DomainError):
    code, status, title = "posture_error", 400, "Invalid posture request"


class UnknownAgency(PostureError):
    code, status, title = "agency_not_found", 404, "No such agency"


class AgencyExists(PostureError):
    code, status, title = "agency_exists", 409, "The agency is registered already"


class SystemInvalid(PostureError):
    code, status, title = "system_invalid", 400, "Invalid information system"


class SystemExists(PostureError):
    code, status, title = "system_exists", 409, "The agency has a system of that name"


class UnknownSystem(PostureError):
    code, status, title = "system_not_found", 404, "No such information system"


class OutOfScope(PostureError):
    code, status, title = "forbidden", 403, "This staff member cannot act for that agency"


class NotRegistered(PostureError):
    """A scan asked for something that is not a registered endpoint of a registered agency."""

    code, status, title = "target_not_registered", 403, "Not a registered endpoint"


class FindingNotFound(PostureError):
    code, status, title = "finding_not_found", 404, "No such finding"


class TransitionRefused(PostureError):
    code, status, title = "finding_transition_refused", 409, "The finding cannot change so"
