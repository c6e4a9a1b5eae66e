"""Hardening finding 6: a declaration belongs to (number, declaring citizen, subscription); it
ends when the number passes to another owner, and a confirm by the owner supersedes a disown
(SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from dinhdanh.identity import indexes
from dinhdanh.wiring import Container
from tests.identity.factories import GOOD
from tests.telecom.factories import sub
from tests.telecom.test_store_reconciliation import CTX, NOW, run, seed, verdicts

AN, BINH = GOOD[0], GOOD[1]
NUMBER = "+84962000001"


def who(person: dict[str, str]) -> dict[str, str]:
    return {k: person[k] for k in ("id_number", "full_name", "date_of_birth")}


def subject(c: Container, person: dict[str, str]) -> tuple[str, bytes]:
    with c.unit_of_work() as s:
        view = c.registry.get_by_id_number(s, person["id_number"], CTX, NOW)
        assert view is not None
        return view.subject_id, indexes.id_index(c.ring, person["id_number"])


def test_a_disown_ends_when_the_number_changes_hands(container: Container, tmp_path: Path) -> None:
    c = container
    seed(c, tmp_path, [sub(NUMBER, activation_date="2024-01-10", **who(AN))])
    an_id, an_bidx = subject(c, AN)
    with c.unit_of_work() as s:
        c.telecom.declare(s, an_id, an_bidx, NUMBER, "disowned", CTX, NOW)
    # The carrier takes the number back and gives it to Bình, who never disowned anything.
    seed(c, tmp_path, [sub(NUMBER, activation_date="2025-09-01", **who(BINH))])
    binh_id, binh_bidx = subject(c, BINH)
    with c.unit_of_work() as s:
        mine = c.telecom.numbers_of(s, binh_bidx, binh_id)
        assert [(n.msisdn, n.declaration) for n in mine] == [(NUMBER, None)]
        assert c.telecom.numbers_of(s, an_bidx, an_id) == []
        # An's case ended with An's subscription: it no longer heads Bình's line for a lock.
        case = c.telecom.case_of(s, "VTL", NUMBER)
        assert case is not None
        assert (case.state, case.resolution) == ("resolved", "the number changed hands")
        assert [a.action for a in c.telecom.pending_actions(s, "VTL")] == ["cancel"]
    out = tmp_path / "out"
    result = run(c, out)
    assert verdicts(out, "VTL") == {NUMBER: []}  # not DISOWNED: that was the last owner
    assert result["opened"] == 0


def test_someone_elses_declaration_is_not_shown_or_counted(
    container: Container, tmp_path: Path
) -> None:
    # The same number at the same time: An's disown is about An's subscription only.
    c = container
    seed(c, tmp_path, [sub(NUMBER, **who(AN))])
    an_id, an_bidx = subject(c, AN)
    with c.unit_of_work() as s:
        c.telecom.declare(s, an_id, an_bidx, NUMBER, "confirmed", CTX, NOW)
    seed(c, tmp_path, [sub(NUMBER, activation_date="2025-09-01", **who(BINH))])
    binh_id, binh_bidx = subject(c, BINH)
    with c.unit_of_work() as s:
        assert c.telecom.numbers_of(s, binh_bidx, binh_id)[0].declaration is None


def test_a_confirm_by_the_owner_supersedes_a_disown(container: Container, tmp_path: Path) -> None:
    c = container
    seed(c, tmp_path, [sub(NUMBER, **who(AN))])
    an_id, an_bidx = subject(c, AN)
    with c.unit_of_work() as s:
        c.telecom.declare(s, an_id, an_bidx, NUMBER, "disowned", CTX, NOW)
    with c.unit_of_work() as s:
        assert c.telecom.numbers_of(s, an_bidx, an_id)[0].declaration == "disowned"
        done = c.telecom.declare(s, an_id, an_bidx, NUMBER, "confirmed", CTX, NOW)
        assert done.declaration == "confirmed"
        case = c.telecom.case_of(s, "VTL", NUMBER)
        assert case is not None
        assert (case.state, case.resolution) == ("resolved", "the owner confirmed it")
    with c.unit_of_work() as s:
        assert c.telecom.numbers_of(s, an_bidx, an_id)[0].declaration == "confirmed"
    out = tmp_path / "out"
    run(c, out)
    assert verdicts(out, "VTL") == {NUMBER: []}
