"""Fake-account (Sybil) detection on a platform's interaction graph (issue 10, points 8-10).

Inputs: the platform's graph and moderation labels (``store``), extra trust seeds (verified
accounts). Methods: SybilRank and SybilSCAR (``rank``), pure functions over scipy.sparse CSR.
Outputs: a fake score in [0, 1] per account with reason codes (``reasons``), and a report.
"""

from dinhdanh.social.sybil.rank import Ranking, sybilrank, sybilscar
from dinhdanh.social.sybil.reasons import CODES
from dinhdanh.social.sybil.service import Method, Result, rank_graph, rank_platform, write_outputs
from dinhdanh.social.sybil.store import (
    Graph,
    ImportReport,
    SocialDataError,
    import_graph,
    import_labels,
    load_graph,
    load_labels,
)

__all__ = [
    "CODES",
    "Graph",
    "ImportReport",
    "Method",
    "Ranking",
    "Result",
    "SocialDataError",
    "import_graph",
    "import_labels",
    "load_graph",
    "load_labels",
    "rank_graph",
    "rank_platform",
    "sybilrank",
    "sybilscar",
    "write_outputs",
]
