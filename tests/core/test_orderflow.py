"""`ofi_terms` against hand-computed best-level sequences and a loop-based oracle of DOMAIN.md §7.

e_n = qB_n·1{PB_n ≥ PB_n−1} − qB_n−1·1{PB_n ≤ PB_n−1} − qA_n·1{PA_n ≤ PA_n−1} + qA_n−1·1{PA_n ≥ PA_n−1}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fxhub.core.bars import EMPTY_ASK, EMPTY_BID, BookColumns, BookState
from fxhub.core.orderflow import ofi_terms

# One level of one state: (bid key, bid size, ask key, ask size).
Level = tuple[int, int, int, int]
State = Sequence[Level]


def _books(states: Sequence[State]) -> BookColumns:
    """Book columns from states given level by level (keys are integer order keys)."""
    levels = len(states[0]) if states else 1
    arr = np.array(states, dtype=np.int64).reshape(len(states), levels, 4)
    bid_key, bid_sz, ask_key, ask_sz = (arr[:, :, i].copy() for i in range(4))
    bid_top = np.where(bid_key[:, 0] == EMPTY_BID, -np.inf, bid_key[:, 0] / 1e9)
    ask_top = np.where(ask_key[:, 0] == EMPTY_ASK, np.inf, ask_key[:, 0] / 1e9)
    return BookColumns(
        np.arange(len(states), dtype=np.int64), bid_key, ask_key, bid_sz, ask_sz, bid_top, ask_top
    )


def _state(levels: State) -> BookState:
    book = _books([levels])
    state = book.last_state()
    assert state is not None
    return state


def _oracle(states: Sequence[State], previous: State | None) -> list[list[int]]:
    """DOMAIN.md §7 written out term by term, one state and one level at a time."""
    out: list[list[int]] = []
    before = previous
    for state in states:
        row = []
        for level, (pb, qb, pa, qa) in enumerate(state):
            if before is None:
                row.append(0)  # nothing to measure the first state against
                continue
            pb0, qb0, pa0, qa0 = before[level]
            e = 0
            if pb >= pb0:
                e += qb
            if pb <= pb0:
                e -= qb0
            if pa <= pa0:
                e -= qa
            if pa >= pa0:
                e += qa0
            row.append(e)
        out.append(row)
        before = state
    return out


# Best level before every case: bid 100 × 5, ask 102 × 7.
START: Level = (100, 5, 102, 7)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        pytest.param((101, 3, 102, 7), 3, id="bid-price-up-counts-the-new-bid-size"),
        pytest.param((99, 4, 102, 7), -5, id="bid-price-down-removes-the-old-bid-size"),
        pytest.param((100, 8, 102, 7), 3, id="bid-unchanged-size-grows-by-3"),
        pytest.param((100, 2, 102, 7), -3, id="bid-unchanged-size-shrinks-by-3"),
        pytest.param((100, 5, 101, 4), -4, id="ask-price-down-counts-the-new-ask-size-as-selling"),
        pytest.param((100, 5, 103, 9), 7, id="ask-price-up-removes-the-old-ask-size-as-buying"),
        pytest.param((100, 5, 102, 10), -3, id="ask-unchanged-size-grows-by-3"),
        pytest.param((100, 5, 102, 1), 6, id="ask-unchanged-size-shrinks-by-6"),
        pytest.param((100, 5, 102, 7), 0, id="nothing-changed"),
        pytest.param((101, 2, 103, 9), 2 + 7, id="both-sides-step-up"),
        pytest.param((99, 6, 101, 1), -5 - 1, id="both-sides-step-down"),
        pytest.param((EMPTY_BID, 0, 102, 7), -5, id="bid-level-emptied"),
        pytest.param((100, 5, EMPTY_ASK, 0), 7, id="ask-level-emptied"),
    ],
)
def test_ofi_of_one_best_level_update_matches_hand_computation(after: Level, expected: int) -> None:
    terms = ofi_terms(_books([[START], [after]]), None)
    assert terms.dtype == np.int32
    assert terms.tolist() == [[0], [expected]]


def test_ofi_of_levels_refilled_after_being_empty() -> None:
    bid_back = ofi_terms(_books([[(EMPTY_BID, 0, 102, 7)], [(100, 4, 102, 7)]]), None)
    ask_back = ofi_terms(_books([[(100, 5, EMPTY_ASK, 0)], [(100, 5, 102, 6)]]), None)
    assert bid_back[1, 0] == 4  # a bid appeared: buying pressure
    assert ask_back[1, 0] == -6  # an offer appeared: selling pressure


def test_ofi_of_a_level_that_stays_empty_is_zero() -> None:
    terms = ofi_terms(_books([[(EMPTY_BID, 0, EMPTY_ASK, 0)], [(EMPTY_BID, 0, EMPTY_ASK, 0)]]), None)
    assert terms.tolist() == [[0], [0]]


def test_ofi_of_a_hand_computed_sequence_sums_the_terms() -> None:
    sequence = [
        [(100, 5, 102, 7)],
        [(100, 9, 102, 7)],  # bid size +4 → +4
        [(101, 2, 102, 7)],  # bid steps up with 2 → +2
        [(101, 2, 102, 3)],  # ask shrinks 7 → 3 → +4
        [(100, 6, 101, 5)],  # bid steps down (−2), ask steps down with 5 (−5) → −7
    ]
    terms = ofi_terms(_books(sequence), None)
    assert terms[:, 0].tolist() == [0, 4, 2, 4, -7]
    assert int(terms.sum()) == 3


def test_ofi_first_state_is_measured_against_the_previous_state_carried_in() -> None:
    books = _books([[(101, 3, 102, 7)], [(101, 3, 102, 7)]])
    assert ofi_terms(books, None)[0, 0] == 0
    assert ofi_terms(books, _state([START]))[0, 0] == 3  # bid stepped up from 100 × 5 to 101 × 3


def test_ofi_split_at_any_state_with_previous_carried_equals_the_whole_sequence() -> None:
    sequence = [[(100 + i % 3, 5 + i, 103 + i % 2, 9 - i % 4)] for i in range(8)]
    whole = ofi_terms(_books(sequence), None)
    for cut in range(1, len(sequence)):
        head = _books(sequence[:cut])
        tail = ofi_terms(_books(sequence[cut:]), head.last_state())
        assert np.array_equal(np.concatenate([ofi_terms(head, None), tail]), whole), cut


def test_ofi_levels_are_independent() -> None:
    before = [(100, 5, 102, 7), (99, 10, 103, 10)]
    after = [(100, 5, 102, 7), (99, 4, 103, 12)]  # level 2 only: bid −6, ask +2 → −8
    assert ofi_terms(_books([before, after]), None).tolist() == [[0, 0], [0, -8]]


def test_ofi_of_no_states_is_empty() -> None:
    terms = ofi_terms(BookColumns.empty(levels=3), _state([START, START, START]))
    assert terms.shape == (0, 3)


@st.composite
def _books_and_previous(draw: st.DrawFn) -> tuple[list[list[Level]], list[Level] | None]:
    levels = draw(st.integers(1, 3))
    # Few distinct keys so that equal prices (the ≥/≤ ties) are common; empty levels have size 0.
    bid = st.one_of(st.tuples(st.integers(95, 100), st.integers(0, 30)), st.just((EMPTY_BID, 0)))
    ask = st.one_of(st.tuples(st.integers(101, 106), st.integers(0, 30)), st.just((EMPTY_ASK, 0)))
    level = st.builds(lambda b, a: (b[0], b[1], a[0], a[1]), bid, ask)
    state = st.lists(level, min_size=levels, max_size=levels)
    states = draw(st.lists(state, min_size=0, max_size=8))
    previous = draw(st.none() | state)
    return states, previous


@settings(max_examples=300, deadline=None)
@given(_books_and_previous())
def test_ofi_terms_equal_the_loop_oracle_on_random_small_books(
    case: tuple[list[list[Level]], list[Level] | None],
) -> None:
    states, previous = case
    if not states:
        levels = len(previous) if previous is not None else 1
        books = BookColumns.empty(levels=levels)
    else:
        books = _books(states)
    prior = _state(previous) if previous is not None else None
    terms = ofi_terms(books, prior)
    assert terms.shape == (len(states), books.levels)
    assert terms.tolist() == _oracle(states, previous)
