"""How the fetcher chooses between the sources: a small frozen configuration, checked on construction."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal, get_args

from fxhub.errors import ValidationError

__all__ = ["POLICIES", "PolicyName", "SelectionPolicy"]

PolicyName = Literal["auto", "databento", "ig", "hybrid"]
POLICIES: Final[tuple[str, ...]] = get_args(PolicyName)


@dataclass(frozen=True, slots=True, kw_only=True)
class SelectionPolicy:
    """Which candles a strategy gets.

    - ``"auto"`` (default): DATABENTO (futures prices, real volume) when it covers at least `threshold`
      of the window's minutes, else IG (spot prices, tick volume). One window never mixes the two.
    - ``"databento"`` / ``"ig"``: that source only, however thin its coverage.
    - ``"hybrid"``: IG spot prices with CME real volume joined by minute; minutes CME did not trade keep
      their IG tick count and are flagged ``volume_type="tick"``. When fewer than `threshold` of the IG
      minutes have CME volume, indicators weight by nothing real and the VWAP is labelled ``twap``.

    `basis_adjust` turns DATABENTO's futures prices into spot terms by subtracting the futures − spot
    basis measured on minutes both sources have, smoothed by an EWMA with half-life
    `basis_halflife_minutes`; at least `basis_min_overlap` overlapping minutes are needed, else the
    candles stay on the futures basis and the result says so.
    """

    policy: PolicyName = "auto"
    threshold: float = 0.5
    basis_adjust: bool = False
    basis_halflife_minutes: float = 20.0
    basis_min_overlap: int = 3

    def __post_init__(self) -> None:
        where = "SelectionPolicy"
        if self.policy not in POLICIES:
            raise ValidationError("policy", self.policy, f"must be one of {', '.join(POLICIES)}", where=where)
        if (
            isinstance(self.threshold, bool)
            or not isinstance(self.threshold, int | float)
            or not math.isfinite(self.threshold)
            or not 0.0 < self.threshold <= 1.0
        ):
            raise ValidationError("threshold", self.threshold, "must be a number in (0, 1]", where=where)
        if not isinstance(self.basis_adjust, bool):
            raise ValidationError("basis_adjust", self.basis_adjust, "must be true or false", where=where)
        halflife = self.basis_halflife_minutes
        if (
            isinstance(halflife, bool)
            or not isinstance(halflife, int | float)
            or not math.isfinite(halflife)
            or halflife <= 0
        ):
            raise ValidationError("basis_halflife_minutes", halflife, "must be a number > 0", where=where)
        overlap = self.basis_min_overlap
        if isinstance(overlap, bool) or not isinstance(overlap, int) or overlap < 1:
            raise ValidationError("basis_min_overlap", overlap, "must be a whole number ≥ 1", where=where)

    def required_bars(self, bars: int) -> int:
        """The fewest candles a source needs in a window of `bars` minutes to count as covering it.

        Counted in whole candles so that 30 of 60 meets a 0.5 threshold exactly, with no float doubt.
        """
        return max(1, math.ceil(self.threshold * bars - 1e-9))
