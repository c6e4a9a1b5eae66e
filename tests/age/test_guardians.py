"""Guardian links in storage (SQLite and PostgreSQL): rules enforced, registry links derived,
links ending on the 18th birthday, every read and write audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from dinhdanh.age.guardians import LinkRefused
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.wiring import Container
from tests.age.family import NOW, OFFICER, link, make_family, person, registry_guardian


def active(c: Container, child: str, now: datetime = NOW) -> set[str]:
    with c.unit_of_work() as s:
        return {x.guardian for x in c.guardians.active_guardians(s, child, OFFICER, now)}


def test_at_most_two_active_guardians(container: Container) -> None:
    f = make_family(container)
    link(container, f.child, f.mother)
    link(container, f.child, f.father, relation="father")
    with pytest.raises(LinkRefused) as exc:
        link(container, f.child, f.aunt, relation="guardian")
    assert exc.value.code == "too_many_guardians"
    assert active(container, f.child.subject_id) == {f.mother.subject_id, f.father.subject_id}


def test_an_ended_link_frees_a_place(container: Container) -> None:
    f = make_family(container)
    first = link(container, f.child, f.mother)
    link(container, f.child, f.father, relation="father")
    with container.unit_of_work() as s:
        ended = container.guardians.end(
            s, first, reason="court", legal_basis="court order 13/2026", ctx=OFFICER, now=NOW
        )
    assert not ended.active
    link(container, f.child, f.aunt, relation="guardian")
    assert active(container, f.child.subject_id) == {f.father.subject_id, f.aunt.subject_id}


def test_a_link_that_ends_before_a_new_one_starts_does_not_count(container: Container) -> None:
    f = make_family(container)
    link(container, f.child, f.mother, valid_to=date(2026, 12, 31))
    link(container, f.child, f.father, relation="father")
    # From 2027 the mother's link no longer holds: the aunt may start then.
    link(container, f.child, f.aunt, relation="guardian", valid_from=date(2027, 1, 1))
    with pytest.raises(LinkRefused):
        link(container, f.child, f.other_parent, relation="guardian", valid_from=date(2027, 1, 1))


def test_a_guardian_must_be_an_adult(container: Container) -> None:
    f = make_family(container)
    with pytest.raises(LinkRefused) as exc:
        link(container, f.child, f.teen, relation="guardian")
    assert exc.value.code == "guardian_not_adult"
    with pytest.raises(LinkRefused) as exc:
        link(container, f.child, f.child)
    assert exc.value.code == "guardian_is_self"


def test_links_end_by_themselves_on_the_18th_birthday(container: Container) -> None:
    f = make_family(container)
    link(container, f.teen, f.mother)
    eighteen = datetime(2026, 9, 30, 0, 0, tzinfo=UTC)
    assert active(container, f.teen.subject_id, eighteen - timedelta(seconds=1)) == {
        f.mother.subject_id
    }
    assert active(container, f.teen.subject_id, eighteen) == set()
    with container.unit_of_work() as s:
        assert container.guardians.children_of(s, f.mother.subject_id, OFFICER, eighteen) == []


def test_registry_links_are_derived_and_ended(container: Container) -> None:
    f = make_family(container)
    registry_guardian(container, f.child, f.mother)
    registry_guardian(container, f.teen, f.aunt)
    with container.unit_of_work() as s:
        added, ended, refused = container.guardians.sync_registry(s, OFFICER, NOW)
    assert (len(added), ended, refused) == (2, [], 0)
    assert active(container, f.child.subject_id) == {f.mother.subject_id}
    with container.unit_of_work() as s:  # idempotent
        assert container.guardians.sync_registry(s, OFFICER, NOW) == ([], [], 0)
    registry_guardian(container, f.child, f.father)  # the registry now names the father
    with container.unit_of_work() as s:
        added, ended, _ = container.guardians.sync_registry(s, OFFICER, NOW)
    assert len(added) == 1
    assert len(ended) == 1
    assert active(container, f.child.subject_id) == {f.father.subject_id}


def test_the_derivation_reads_birth_dates_of_new_pairs_only(container: Container) -> None:
    """Each child's guardian read is audited at every derivation; the birth dates (told by
    their blind index) only while the pair is new, under the child and under the guardian."""
    f = make_family(container)
    registry_guardian(container, f.child, f.mother)

    def reads() -> list[tuple[str, str]]:
        with container.unit_of_work() as s:
            stmt = select(AuditEntry).where(
                AuditEntry.actor == OFFICER.actor, AuditEntry.action == "read"
            )
            return sorted((r.subject or "", r.fields) for r in s.scalars(stmt))

    with container.unit_of_work() as s:
        added, _, refused = container.guardians.sync_registry(s, OFFICER, NOW)
    assert (len(added), refused) == (1, 0)
    first = reads()
    assert sorted(first) == sorted(
        [
            (f.child.subject_id, "guardian_id_number,date_of_birth"),
            (f.mother.subject_id, "date_of_birth"),
        ]
    )
    with container.unit_of_work() as s:
        assert container.guardians.sync_registry(s, OFFICER, NOW) == ([], [], 0)
    assert sorted(reads()) == sorted([*first, (f.child.subject_id, "guardian_id_number")])


def test_registry_link_to_a_minor_guardian_is_refused(container: Container) -> None:
    f = make_family(container)
    registry_guardian(container, f.child, f.teen)
    with container.unit_of_work() as s:
        assert container.guardians.sync_registry(s, OFFICER, NOW) == ([], [], 1)
    assert active(container, f.child.subject_id) == set()


def test_reads_and_writes_are_audited_under_the_child(container: Container) -> None:
    f = make_family(container)
    link(container, f.child, f.mother)
    active(container, f.child.subject_id)
    with container.unit_of_work() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.subject == f.child.subject_id)).all()
        actions = {(r.action, r.fields) for r in rows if r.actor == OFFICER.actor}
    assert ("create", "guardian_id_number") in actions
    assert ("read", "guardian_id_number") in actions
    assert ("read", "date_of_birth") in actions


def test_children_of_lists_each_child_once(container: Container) -> None:
    f = make_family(container)
    second = person(container, date(2016, 2, 29), "000107", "Lê Minh Châu")
    link(container, f.child, f.mother)
    link(container, f.child, f.mother, source="feed")
    link(container, second, f.mother)
    with container.unit_of_work() as s:
        kids = container.guardians.children_of(s, f.mother.subject_id, OFFICER, NOW)
    assert sorted(k.child for k in kids) == sorted([f.child.subject_id, second.subject_id])
