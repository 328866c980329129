"""Errors the exchange answers with: each carries the HTTP status and Alpaca's `{code, message}` body.

The matching engine raises them synchronously, so a rejected order creates no order and no event
(alpaca-wire.md §2.5); the REST layer turns them into responses unchanged.
"""

from __future__ import annotations

from typing import Any


class ExchangeError(Exception):
    """An Alpaca trading-API error: HTTP `status`, numeric `code`, `message`, optional extra fields."""

    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


class OrderRejected(ExchangeError):
    """A submission the exchange refuses (422 invalid, 403 balance or minimum)."""


class NotFound(ExchangeError):
    def __init__(self, message: str) -> None:
        super().__init__(404, 40410000, message)


class NotCancelable(ExchangeError):
    def __init__(self, status: str) -> None:
        super().__init__(422, 42210000, f'order is already in "{status}" state')


def invalid(message: str, code: int = 40010001) -> OrderRejected:
    """422: the request is malformed or breaks a crypto rule."""
    return OrderRejected(422, code, message)


def forbidden(message: str, **extra: Any) -> OrderRejected:
    """403 40310000: below a minimum or not enough balance."""
    return OrderRejected(403, 40310000, message, **extra)
