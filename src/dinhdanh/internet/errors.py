"""Errors of the internet domain (DomainErrors: the web layer renders them as problems)."""

from __future__ import annotations

from dinhdanh.errors import DomainError


class InternetError(DomainError):
    code, status, title = "internet_error", 400, "Invalid internet-resource request"


class RegistrarExists(InternetError):
    code, status, title = "registrar_exists", 409, "The registrar exists already"


class UnknownRegistrar(InternetError):
    code, status, title = "registrar_not_found", 404, "No such registrar"


class NotYourRegistrar(InternetError):
    code, status, title = "forbidden", 403, "This key cannot act for that registrar"


class DomainHeldElsewhere(InternetError):
    """A name another registrar holds. Rows are refused one by one at validation (reason
    ``domain_held_elsewhere``); this is raised only when another upload took the name between
    validation and storage, and the chunk is not applied."""

    code, status, title = "domain_held_elsewhere", 409, "Another registrar holds the name"


class BlockTakenMeanwhile(InternetError):
    """An IP block that overlaps another holder's block stored by another import since this
    one was checked (rows are refused one by one at validation, reason ``ip_overlap``). The
    chunk is not applied; running the import again resumes and refuses the row."""

    code, status, title = "ip_block_taken_meanwhile", 409, "Another holder's block overlaps"


class NotYourDomain(InternetError):
    # Same answer whether the name does not exist or is someone else's.
    code, status, title = "domain_not_found", 404, "No such domain name of yours"
