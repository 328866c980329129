"""Notifications through apprise: the only module that imports it.

One channel per URL in NOTIFY_URLS (Telegram, Discord, Slack, e-mail, ntfy, a JSON webhook and the
rest of apprise's schemes), so that a retry resends only to the services that failed. The URLs hold
tokens and passwords: they are never logged, and errors name an entry by its position only.
"""

from __future__ import annotations

import logging
import re

import apprise

logging.getLogger("apprise").setLevel(logging.CRITICAL)  # its messages can quote a URL with its token
SEND_TIMEOUT_S = 10.0


class BadNotifyUrl(ValueError):
    """An entry of NOTIFY_URLS that apprise does not understand (named by position, never quoted)."""


class Channel:
    """One notification service."""

    def __init__(self, url: str, position: int) -> None:
        self._apprise = apprise.Apprise()
        if not self._apprise.add(url):
            raise BadNotifyUrl(f"NOTIFY_URLS: entry {position} is not a URL apprise understands "
                               "(see https://github.com/caronc/apprise/wiki)")
        self.position = position

    def send(self, title: str, body: str, warning: bool) -> bool:
        """True when the service accepted the message."""
        kind = apprise.NotifyType.WARNING if warning else apprise.NotifyType.INFO
        try:
            return bool(self._apprise.notify(body=body, title=title, notify_type=kind, timeout=SEND_TIMEOUT_S))
        except Exception:  # a plugin bug must not kill the notifier; counted as a failed attempt
            return False


def split_urls(text: str) -> list[str]:
    """NOTIFY_URLS: separated by commas, spaces or new lines."""
    return [part for part in re.split(r"[\s,]+", text.strip()) if part]


def open_channels(text: str) -> list[Channel]:
    return [Channel(url, position) for position, url in enumerate(split_urls(text), start=1)]
