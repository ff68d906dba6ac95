"""Order-flow imbalance (Cont, Kukanov & Stoikov 2014) per book update and per level (Xu, Gould & Howison).

For consecutive complete book states n-1 → n at one level::

    e_n = qB_n·1{PB_n ≥ PB_n-1} − qB_n-1·1{PB_n ≤ PB_n-1} − qA_n·1{PA_n ≤ PA_n-1} + qA_n-1·1{PA_n ≥ PA_n-1}

Positive e_n is buying pressure: bids grew or stepped up, offers shrank or stepped away. An empty level
has the lowest bid key or the highest ask key and size 0, which the formula reads as that side emptying.
Prices enter as integer order keys (see `BookColumns`), so every term is an exact integer.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fxhub.core.bars.columns import BookColumns, BookState

__all__ = ["ofi_terms"]

Ints = npt.NDArray[np.int64]
Sizes = npt.NDArray[np.int32]


def _terms(pb: Ints, qb: Sizes, pa: Ints, qa: Sizes, pb0: Ints, qb0: Sizes, pa0: Ints, qa0: Sizes) -> Sizes:
    terms: Sizes = qb * (pb >= pb0) - qb0 * (pb <= pb0) - qa * (pa <= pa0) + qa0 * (pa >= pa0)
    return terms


def ofi_terms(books: BookColumns, previous: BookState | None) -> Sizes:
    """e_n for every state and level, shape (n, levels); the first state is measured against `previous`
    (the last state before these), or contributes 0 when there is none."""
    pb, qb, pa, qa = books.bid_key, books.bid_sz, books.ask_key, books.ask_sz
    terms = np.zeros(pb.shape, np.int32)
    if not len(books):
        return terms
    terms[1:] = _terms(pb[1:], qb[1:], pa[1:], qa[1:], pb[:-1], qb[:-1], pa[:-1], qa[:-1])
    if previous is not None:
        terms[0] = _terms(
            pb[0], qb[0], pa[0], qa[0], previous.bid_key, previous.bid_sz, previous.ask_key, previous.ask_sz
        )
    return terms
