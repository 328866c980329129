"""Deal start conditions: a small expression language, parsed into a typed tree and evaluated on bars.

    condition  := comparison ("and" comparison)*
    comparison := operand ("<" | "<=" | ">" | ">=") operand
    operand    := number | "close" | indicator
    indicator  := ("rsi" | "sma" | "ema") "(" n ["," timeframe] ")"
                | ("bb_lower" | "bb_middle" | "bb_upper") "(" n "," k ["," timeframe] ")"
    timeframe  := 1m | 5m | 15m | 1h | 4h | 1d        (default 1m)

Examples: `rsi(14) < 30`, `rsi(14, 1h) < 30 and close < bb_lower(20, 2)`, `ema(9) > ema(21)`.
`close` is the close of the last complete one-minute bar. Mistakes are reported with the column
(1-based) where they start, e.g. `rsi(14) << 30` → "unknown operator '<<' at column 9".

Here is the language and what a reading says; the readings themselves are computed from bars by
`app.start_conditions` (numpy, floats: indicators are not money), the same code live and in
backtests. The core only uses a reading's truth (`dca.strategy.start_waits_for`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

WARMUP = 5  # EMA and RSI read WARMUP × n periods: their SMA seed then weighs < 1 % (EMA) / 2 % (RSI)
MAX_PERIOD = 1000
MAX_LOOKBACK = timedelta(days=200)  # bars a reading may need; the live driver holds this many in memory


class ConditionError(ValueError):
    """A mistake in a condition's text, at `column` (1-based)."""

    def __init__(self, message: str, column: int) -> None:
        self.column = column
        super().__init__(f"{message} at column {column}")


class Timeframe(enum.StrEnum):
    """Bars built from one-minute bars in UTC-aligned buckets (see `app.indicators`)."""

    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"

    @property
    def seconds(self) -> int:
        return _TIMEFRAME_SECONDS[self]


_TIMEFRAME_SECONDS = {Timeframe.M1: 60, Timeframe.M5: 300, Timeframe.M15: 900, Timeframe.H1: 3600,
                      Timeframe.H4: 14_400, Timeframe.D1: 86_400}


class Operator(enum.StrEnum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="

    def holds(self, left: float, right: float) -> bool:
        """The comparison itself: IEEE 754 floats, the same bits in → the same answer out."""
        match self:
            case Operator.LT:
                return left < right
            case Operator.LE:
                return left <= right
            case Operator.GT:
                return left > right
            case Operator.GE:
                return left >= right


class IndicatorKind(enum.StrEnum):
    RSI = "rsi"
    SMA = "sma"
    EMA = "ema"
    BB_LOWER = "bb_lower"
    BB_MIDDLE = "bb_middle"
    BB_UPPER = "bb_upper"

    @property
    def is_band(self) -> bool:
        return self in (IndicatorKind.BB_LOWER, IndicatorKind.BB_MIDDLE, IndicatorKind.BB_UPPER)


@dataclass(frozen=True, slots=True)
class Number:
    value: Decimal
    text: str

    @property
    def label(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Close:
    @property
    def label(self) -> str:
        return "close"


@dataclass(frozen=True, slots=True)
class Indicator:
    kind: IndicatorKind
    period: int
    timeframe: Timeframe = Timeframe.M1
    k: Decimal | None = None  # Bollinger width in standard deviations
    k_text: str = ""

    @property
    def label(self) -> str:
        args = [str(self.period)] + ([self.k_text] if self.kind.is_band else [])
        if self.timeframe is not Timeframe.M1:
            args.append(self.timeframe.value)
        return f"{self.kind.value}({', '.join(args)})"

    @property
    def periods(self) -> int:
        """Buckets of its timeframe the indicator reads (its fixed window)."""
        if self.kind is IndicatorKind.RSI:
            return WARMUP * self.period + 1
        if self.kind is IndicatorKind.EMA:
            return WARMUP * self.period
        return self.period

    @property
    def lookback(self) -> timedelta:
        return timedelta(seconds=(self.periods + 1) * self.timeframe.seconds)  # + the forming bucket


Operand = Number | Close | Indicator


@dataclass(frozen=True, slots=True)
class Comparison:
    left: Operand
    operator: Operator
    right: Operand

    @property
    def label(self) -> str:
        return f"{self.left.label} {self.operator.value} {self.right.label}"


@dataclass(frozen=True, slots=True)
class Condition:
    comparisons: tuple[Comparison, ...]

    @property
    def text(self) -> str:
        """The canonical text (parses back to the same condition)."""
        return " and ".join(c.label for c in self.comparisons)

    def operands(self) -> tuple[Close | Indicator, ...]:
        """Every distinct non-number operand, in order of appearance."""
        seen: dict[str, Close | Indicator] = {}
        for comparison in self.comparisons:
            for operand in (comparison.left, comparison.right):
                if not isinstance(operand, Number):
                    seen.setdefault(operand.label, operand)
        return tuple(seen.values())

    @property
    def lookback(self) -> timedelta:
        """How far before `as_of` the bars a reading needs reach."""
        spans = [o.lookback for o in self.operands() if isinstance(o, Indicator)]
        return max([timedelta(minutes=2), *spans])


# --- parsing -------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<number>\d+(?:\.\d+)?[A-Za-z]*)|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
                    r"|(?P<op>[<>=!]+)|(?P<punct>[(),])|(?P<other>\S))")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, name, op, punct, other, end
    text: str
    column: int


def _tokens(text: str) -> list[_Token]:
    tokens, position = [], 0
    while True:
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            break
        kind = match.lastgroup
        tokens.append(_Token(kind, match.group(kind), match.start(kind) + 1))
        position = match.end()
    tokens.append(_Token("end", "", len(text.rstrip()) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self._tokens = _tokens(text)
        self._at = 0

    def _peek(self) -> _Token:
        return self._tokens[self._at]

    def _next(self) -> _Token:
        token = self._tokens[self._at]
        self._at += 1
        return token

    def _expect(self, text: str, after: str) -> None:
        token = self._next()
        if token.text != text:
            raise ConditionError(f"expected '{text}' {after}, found {_shown(token)}", token.column)

    def condition(self) -> Condition:
        if self._peek().kind == "end":
            raise ConditionError("a condition is needed, e.g. rsi(14) < 30", 1)
        comparisons = [self._comparison()]
        while self._peek().kind == "name" and self._peek().text.lower() == "and":
            self._next()
            comparisons.append(self._comparison())
        token = self._peek()
        if token.kind != "end":
            raise ConditionError(f"unexpected {_shown(token)} (expected 'and' or the end)", token.column)
        return Condition(tuple(comparisons))

    def _comparison(self) -> Comparison:
        start = self._peek()
        left = self._operand()
        token = self._next()
        if token.kind != "op":
            raise ConditionError(f"expected a comparison (<, <=, > or >=), found {_shown(token)}", token.column)
        try:
            operator = Operator(token.text)
        except ValueError:
            raise ConditionError(f"unknown operator '{token.text}' (use <, <=, > or >=)", token.column) from None
        right = self._operand()
        if isinstance(left, Number) and isinstance(right, Number):
            raise ConditionError("compares two numbers", start.column)
        return Comparison(left, operator, right)

    def _operand(self) -> Operand:
        token = self._next()
        if token.kind == "number":
            if not _is_plain_number(token.text):
                raise ConditionError(f"expected a number, close or an indicator, found {_shown(token)}",
                                     token.column)
            return Number(Decimal(token.text), token.text)
        if token.kind == "name":
            name = token.text.lower()
            if name == "close":
                return Close()
            try:
                kind = IndicatorKind(name)
            except ValueError:
                known = ", ".join(k.value for k in IndicatorKind)
                raise ConditionError(f"unknown name '{token.text}' (known: close, {known})", token.column) from None
            return self._indicator(kind, token)
        raise ConditionError(f"expected a number, close or an indicator, found {_shown(token)}", token.column)

    def _indicator(self, kind: IndicatorKind, name: _Token) -> Indicator:
        self._expect("(", f"after {kind.value}")
        period_token = self._next()
        if period_token.kind != "number" or not period_token.text.isdigit():
            raise ConditionError(f"{kind.value}: expected a whole number of periods, found {_shown(period_token)}",
                                 period_token.column)
        period = int(period_token.text)
        if not 1 <= period <= MAX_PERIOD:
            raise ConditionError(f"{kind.value}: periods must be between 1 and {MAX_PERIOD}", period_token.column)
        k, k_text = None, ""
        if kind.is_band:
            self._expect(",", f"and a width in standard deviations after {kind.value}'s periods")
            k_token = self._next()
            if k_token.kind != "number" or not _is_plain_number(k_token.text) or not 0 < Decimal(k_token.text) <= 10:
                raise ConditionError(f"{kind.value}: expected a width between 0 and 10, found {_shown(k_token)}",
                                     k_token.column)
            k, k_text = Decimal(k_token.text), k_token.text
        timeframe = Timeframe.M1
        if self._peek().text == ",":
            self._next()
            tf_token = self._next()
            try:
                timeframe = Timeframe(tf_token.text.lower())
            except ValueError:
                known = ", ".join(t.value for t in Timeframe)
                raise ConditionError(f"unknown timeframe {_shown(tf_token)} (known: {known})",
                                     tf_token.column) from None
        self._expect(")", f"to close {kind.value}(")
        indicator = Indicator(kind, period, timeframe, k, k_text)
        if indicator.lookback > MAX_LOOKBACK:
            raise ConditionError(f"{indicator.label} needs {indicator.lookback.days} days of one-minute bars "
                                 f"(at most {MAX_LOOKBACK.days})", name.column)
        return indicator


def _is_plain_number(text: str) -> bool:
    return text.replace(".", "", 1).isdigit()


def _shown(token: _Token) -> str:
    return "the end" if token.kind == "end" else f"'{token.text}'"


def parse_condition(text: str) -> Condition:
    """The condition `text` describes, or `ConditionError` naming the column of the first mistake."""
    return _Parser(text).condition()


# --- readings ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConditionReading:
    """A condition evaluated at the whole minute `as_of`: whether it holds, the operands' values
    (label → value, None when unknown) and, when it does not hold, what it waits for."""

    condition: str  # the condition's canonical text (`Condition.text`)
    as_of: datetime
    holds: bool
    values: tuple[tuple[str, float | None], ...]
    waiting_for: str = ""
    complete: bool = True  # False: the bar of the minute before `as_of` was missing (asked again live)

    def describe(self) -> str:
        shown = ", ".join(f"{label} = {'-' if value is None else f'{value:.6g}'}" for label, value in self.values)
        state = "holds" if self.holds else f"waiting for {self.waiting_for}"
        return f"{state} ({shown}) at {self.as_of:%Y-%m-%d %H:%M} UTC"
