"""Who reports each claim: coverage and contestedness of canonical claims, from the stance predictions.

A claim is *covered* by an outlet when one of that outlet's articles agrees with it or discusses it; it is
*contested* when some outlet agrees and another disagrees; an outlet *omits* it when none of its articles that
were scored against the claim addresses it (all `unrelated`). Claims sort by coverage (most outlets first), then
contested first, then id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.core.records import CanonicalClaim, StancePrediction

REPORTING = ("agree", "discuss")


@dataclass(frozen=True)
class Coverage:
    claim_id: str
    coverage: int  # outlets that agree with or discuss the claim
    contested: bool  # some outlet agrees and another disagrees
    outlets: dict[str, str]  # outlet -> its label (the strongest over its articles: agree > disagree > discuss)

    @property
    def reporting(self) -> list[str]:
        return sorted(o for o, label in self.outlets.items() if label in REPORTING)

    @property
    def omitting(self) -> list[str]:
        return sorted(o for o, label in self.outlets.items() if label == "unrelated")


_STRENGTH = {"agree": 3, "disagree": 2, "discuss": 1, "unrelated": 0}


def claim_coverage(claims: Sequence[CanonicalClaim], predictions: Sequence[StancePrediction]) -> dict[str, Coverage]:
    by_claim: dict[str, dict[str, str]] = {c.claim_id: {} for c in claims}
    for p in predictions:
        outlets = by_claim.setdefault(p.claim_id, {})
        if _STRENGTH[p.label] >= _STRENGTH.get(outlets.get(p.outlet, "unrelated"), 0) or p.outlet not in outlets:
            outlets[p.outlet] = p.label
    out = {}
    for claim_id, outlets in by_claim.items():
        labels = set(outlets.values())
        out[claim_id] = Coverage(claim_id, sum(label in REPORTING for label in outlets.values()),
                                 {"agree", "disagree"} <= labels, dict(sorted(outlets.items())))
    return out


def sort_claims(claims: Sequence[CanonicalClaim], coverage: dict[str, Coverage]) -> list[CanonicalClaim]:
    """Most-covered first, contested first among equals, then by id (stable and deterministic)."""
    def key(c: CanonicalClaim):
        cov = coverage.get(c.claim_id)
        return (-(cov.coverage if cov else 0), not (cov.contested if cov else False), c.event_id, c.claim_id)

    return sorted(claims, key=key)
