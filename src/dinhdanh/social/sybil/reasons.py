"""Reason codes beside a fake score: why an account ranks where it does, computed per account
from the graph, the labels and the ranking, vectorized.

``LOW_TRUST``
    SybilRank: the account holds under half the degree-normalized trust of an account in a
    well-mixed honest region (``signal < 0.5``). SybilSCAR: its posterior leans Sybil
    (``p > 0.5 + SCAR_MARGIN``).
``LABELLED_SYBIL``
    The platform's own moderation label says sybil.
``LABELLED_SYBIL_NEIGHBOURHOOD``
    Among its direct neighbours with a label, those labelled sybil outnumber those labelled
    benign (and there is at least one).
``ISOLATED``
    The account has no edge in the graph: the score rests on no evidence.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from scipy import sparse

from dinhdanh.social.sybil.rank import Index, Ranking

CODES = ("LOW_TRUST", "LABELLED_SYBIL", "LABELLED_SYBIL_NEIGHBOURHOOD", "ISOLATED")
SCAR_MARGIN = 0.01


def reason_codes(
    adj: sparse.csr_matrix, ranking: Ranking, benign: Index, sybil: Index
) -> pa.ListArray:
    """One list of codes per account, in ``CODES`` order."""
    n = adj.shape[0]
    is_benign = np.zeros(n)
    is_benign[benign] = 1.0
    is_sybil = np.zeros(n)
    is_sybil[sybil] = 1.0
    pattern = sparse.csr_matrix((np.ones(adj.nnz), adj.indices, adj.indptr), shape=adj.shape)
    sybil_nb, benign_nb = pattern @ is_sybil, pattern @ is_benign
    if ranking.method == "sybilrank":
        low = ranking.signal < 0.5
    else:
        low = ranking.score > 0.5 + SCAR_MARGIN
    marks = np.stack(
        [low, is_sybil > 0, (sybil_nb > 0) & (sybil_nb > benign_nb), np.diff(adj.indptr) == 0],
        axis=1,
    )
    counts = marks.sum(axis=1)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    which = np.nonzero(marks)[1]  # row-major: each account's codes in CODES order
    values = pa.DictionaryArray.from_arrays(pa.array(which, pa.int8()), pa.array(CODES))
    return pa.ListArray.from_arrays(pa.array(offsets), values.cast(pa.string()))
