"""IP blocks and AS numbers: strict CIDRs, overlaps refused between holders (stored or earlier
in the file), sub-allocations allowed, idempotent; lookups by address and by ASN."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from dinhdanh.internet.errors import BlockTakenMeanwhile
from dinhdanh.internet.importer import import_asns, import_ip_blocks
from dinhdanh.internet.models import AutNum, IpBlock
from dinhdanh.store.batch import BatchReport, Progress
from dinhdanh.synth.internet import generate_resources
from dinhdanh.wiring import Container
from tests.internet.factories import ORG, ORG2, asn, block, codes, run_of, write


def blocks(c: Container, path: Path, **kw: object) -> BatchReport:
    return import_ip_blocks(path, internet=c.internet, run=run_of(c, **kw))


def asns(c: Container, path: Path, **kw: object) -> BatchReport:
    return import_asns(path, internet=c.internet, run=run_of(c, **kw))


def count(c: Container, model: type) -> int:
    with c.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_overlaps_between_holders_are_refused(container: Container, tmp_path: Path) -> None:
    first = [block("10.0.0.0/8"), block("2402:800::/32")]
    assert blocks(container, write(tmp_path / "a.csv", first)).counts.created == 2
    rows = [
        block("10.1.0.0/16"),  # 2: the holder's own sub-allocation
        block("10.2.0.0/16", ORG2),  # 3: inside another holder's /8
        block("0.0.0.0/0", ORG2),  # 4: holds another holder's blocks
        block("11.0.0.0/8", ORG2),  # 5: elsewhere
        block("11.0.0.0/16", ORG),  # 6: inside line 5's block, earlier in this file
        block("10.0.0.1/8"),  # 7: host bits
        block("2402:800:1::/48", ORG2),  # 8: IPv6 overlap
        block("2402:801::/32", ORG2),  # 9: IPv6 next door
        block("12.0.0.0/8", "0100233480"),  # 10
        block("13.0.0.0/8", asn="AS64512"),  # 11: private
        block("14.0.0.0/8", asn="ASX"),  # 12
        block("15.0.0.0/8", status="lost"),  # 13
        block("16.0.0.0/8", allocated="2099-01-01"),  # 14
    ]
    report = blocks(container, write(tmp_path / "b.csv", rows))
    assert codes(report) == {
        3: ["ip_overlap"],
        4: ["ip_overlap"],
        6: ["ip_overlap"],
        7: ["cidr_invalid"],
        8: ["ip_overlap"],
        10: ["tax_code_checksum"],
        11: ["asn_reserved"],
        12: ["asn_invalid"],
        13: ["invalid_status"],
        14: ["date_in_future"],
    }
    assert "10.0.0.0/8" in report.rejected[1].reason  # names the block it overlaps
    assert count(container, IpBlock) == 5
    with container.unit_of_work() as s:
        i = container.internet
        hit = i.ip_block(s, "10.1.2.3")
        assert hit is not None
        assert (hit.cidr, hit.holder_tax_code) == ("10.1.0.0/16", ORG)
        outer = i.ip_block(s, "10.200.0.1")
        assert outer is not None
        assert (outer.cidr, outer.first_address, outer.last_address) == (
            "10.0.0.0/8",
            "10.0.0.0",
            "10.255.255.255",
        )
        assert i.ip_block(s, "10.1.0.0/20").cidr == "10.1.0.0/16"  # type: ignore[union-attr]
        assert i.ip_block(s, "2402:801::1").holder_tax_code == ORG2  # type: ignore[union-attr]
        assert i.ip_block(s, "192.0.2.1") is None
        assert i.ip_block(s, "not an address") is None
        assert [b.cidr for b in i.sub_blocks(s, "10.0.0.0/8")] == ["10.1.0.0/16"]
        assert [b.cidr for b in i.ip_blocks_of(s, ORG2)] == ["11.0.0.0/8", "2402:801::/32"]


def _import_meanwhile(c: Container, path: Path) -> tuple[list[BatchReport], Progress]:
    """A progress callback that runs another import of ``path`` once the first has been
    checked, before it stores anything: two imports at once, in a fixed order."""
    done: list[BatchReport] = []

    def progress(phase: str, _done: int, _total: int | None) -> None:
        if phase == "validating" and not done:
            done.append(blocks(c, path))

    return done, progress


def test_a_block_stored_meanwhile_by_another_holder_stops_the_import(
    container: Container, tmp_path: Path
) -> None:
    later = write(tmp_path / "later.csv", [block("10.0.0.0/16"), block("20.0.0.0/8")])
    meanwhile, progress = _import_meanwhile(
        container, write(tmp_path / "meanwhile.csv", [block("10.0.0.0/8", ORG2)])
    )
    with pytest.raises(BlockTakenMeanwhile, match=r"10\.0\.0\.0/16 overlaps 10\.0\.0\.0/8"):
        blocks(container, later, progress=progress)
    assert meanwhile[0].counts.created == 1
    with container.unit_of_work() as s:
        assert set(s.scalars(select(IpBlock.cidr))) == {"10.0.0.0/8"}  # nothing of the chunk
    again = blocks(container, later)  # resumes; the overlap is now refused row by row
    assert codes(again) == {2: ["ip_overlap"]}
    assert again.counts.created == 1
    with container.unit_of_work() as s:
        holders = dict(s.execute(select(IpBlock.cidr, IpBlock.holder_tax_code)).all())
    assert holders == {"10.0.0.0/8": ORG2, "20.0.0.0/8": ORG}


def test_blocks_stored_meanwhile_elsewhere_do_not_stop_the_import(
    container: Container, tmp_path: Path
) -> None:
    later = write(tmp_path / "later.csv", [block("10.0.0.0/16"), block("20.0.0.0/8")])
    meanwhile, progress = _import_meanwhile(
        container, write(tmp_path / "meanwhile.csv", [block("30.0.0.0/8", ORG2)])
    )
    report = blocks(container, later, progress=progress)
    assert meanwhile[0].counts.created == 1
    assert report.counts.created == 2
    assert not report.rejected
    assert count(container, IpBlock) == 3


def test_a_transfer_and_a_reimport(container: Container, tmp_path: Path) -> None:
    rows = [block("10.0.0.0/8"), block("10.1.0.0/16"), block("11.0.0.0/8")]
    path = write(tmp_path / "a.csv", rows)
    blocks(container, path)
    again = blocks(container, path)
    assert (again.counts.unchanged, again.counts.created) == (3, 0)
    # The /8 cannot pass to another holder while its sub-allocation stays with the first,
    # nor the sub-allocation while the /8 does.
    for cidr in ("10.0.0.0/8", "10.1.0.0/16"):
        moved = blocks(container, write(tmp_path / "b.csv", [block(cidr, ORG2)]))
        assert codes(moved) == {2: ["ip_overlap"]}
    # A block with nothing of the holder's inside or around it can: same block, new holder.
    moved = blocks(container, write(tmp_path / "c.csv", [block("11.0.0.0/8", ORG2)]))
    assert (codes(moved), moved.counts.updated) == ({}, 1)
    with container.unit_of_work() as s:
        assert container.internet.ip_block(s, "11.1.1.1").holder_tax_code == ORG2  # type: ignore[union-attr]


def test_strict_applies_nothing(container: Container, tmp_path: Path) -> None:
    rows = [block("10.0.0.0/8"), block("10.1.0.0/16", ORG2)]
    report = blocks(container, write(tmp_path / "a.csv", rows), strict=True)
    assert report.aborted
    assert count(container, IpBlock) == 0


def test_asns(container: Container, tmp_path: Path) -> None:
    rows = [
        asn("AS131072"),  # 2
        asn("131073", ORG2),  # 3
        asn("64512"),  # 4: private use
        asn("23456"),  # 5: AS_TRANS
        asn("4294967296"),  # 6: over 32 bits
        asn("AS-1"),  # 7
        asn("131074", name=""),  # 8
        asn("131075", status="gone"),  # 9
        asn("131076", holder=""),  # 10
    ]
    report = asns(container, write(tmp_path / "a.csv", rows))
    assert codes(report) == {
        4: ["asn_reserved"],
        5: ["asn_reserved"],
        6: ["asn_invalid"],
        7: ["asn_invalid"],
        8: ["name_missing"],
        9: ["invalid_status"],
        10: ["tax_code_missing"],
    }
    assert report.rejected[0].label == "64512"
    again = asns(container, write(tmp_path / "a.csv", rows))
    assert (again.counts.unchanged, again.counts.created) == (2, 0)
    with container.unit_of_work() as s:
        found = container.internet.autnum(s, 131072)
        assert found is not None
        assert (found.holder_tax_code, found.name) == (ORG, "PHO-NGON-AS")
        assert container.internet.autnum(s, 1) is None
        assert [a.asn for a in container.internet.asns_of(s, ORG2)] == [131073]
    assert count(container, AutNum) == 2


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_the_synthetic_resources_import_cleanly(
    container: Container, tmp_path: Path, suffix: str
) -> None:
    synth = generate_resources(organisations=40, domains=0, seed=11)
    assert synth == generate_resources(organisations=40, domains=0, seed=11)  # seeded
    report = blocks(container, write(tmp_path / f"b{suffix}", synth.ip_blocks))
    assert (report.rejected_count, report.counts.created) == (0, len(synth.ip_blocks))
    report = asns(container, write(tmp_path / f"a{suffix}", synth.asns))
    assert (report.rejected_count, report.counts.created) == (0, len(synth.asns))
