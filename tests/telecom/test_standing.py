"""One number's standing (telecom.standing) agrees with a full reconciliation run on every
active number of a synthetic population with every kind of junk planted, on both databases."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from dinhdanh.synth.telecom import SynthSubscription
from dinhdanh.telecom.rules import Reason
from dinhdanh.telecom.service import Verdict
from dinhdanh.telecom.standing import standing
from dinhdanh.wiring import Container
from tests.telecom.test_store_reconciliation import run, verdicts
from tests.telecom.test_synth_store import AS_OF, CARRIERS, CTX, _load, disown


def test_one_numbers_standing_matches_the_reconciliation_run(
    container: Container, tmp_path: Path
) -> None:
    c = container
    subs = _load(c, tmp_path, junk_rate=0.9)  # enough people for agent bursts too
    disown(c, subs)
    out = tmp_path / "out"
    run(c, out, now=AS_OF)
    engine = {
        msisdn: sorted(reasons)
        for code in CARRIERS
        for msisdn, reasons in verdicts(out, code).items()
    }
    shared = Counter(sub.msisdn for sub in subs if sub.status == "active")
    with c.unit_of_work() as s:
        found = {n: standing(s, c.registry, n, c.telecom_rules, AS_OF) for n in engine}
    # Every rule about the row, its owner and its number, exactly; the handset and agent
    # rules through the lock case the run opened. A number active at two carriers has two
    # rows in the run and one standing: junk either way.
    group = {"SHARED_IMEI", "AGENT_BURST"}
    single = [n for n in engine if shared[n] == 1]
    assert {n: list(found[n].reasons) for n in single} == {
        n: [r for r in engine[n] if r not in group] for n in single
    }
    assert all("DUPLICATE_MSISDN" in found[n].reasons for n in engine if shared[n] > 1)
    assert all(found[n].locked for n in engine if group & set(engine[n]))
    assert {n for n in engine if found[n].clean} == {n for n in engine if not engine[n]}
    seen = {r for reasons in engine.values() for r in reasons}
    assert seen == {str(r) for r in Reason}  # every rule was exercised
    with c.unit_of_work() as s:
        clean = [n for n in engine if found[n].clean]
        assert clean
        held = standing(s, c.registry, clean[0], c.telecom_rules, AS_OF)
        assert held.clean
        assert held.subject_id is not None
        # A lock case makes a clean number stand locked; a number nobody holds, nobody's.
        case = Verdict(_carrier(subs, clean[0]), clean[0], ("AGENT_BURST",), "notify")
        c.telecom.apply_verdicts(s, [case], [], CTX, AS_OF)
        locked = standing(s, c.registry, clean[0], c.telecom_rules, AS_OF)
        assert locked.locked
        assert not locked.clean
        assert standing(s, c.registry, "+84999999999", c.telecom_rules, AS_OF).subject_id is None


def _carrier(subs: list[SynthSubscription], msisdn: str) -> str:
    return next(x.carrier for x in subs if x.msisdn == msisdn and x.status == "active")
