"""`newsbot health`: ask the running bot's /healthz, for a container's or a unit's health check."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import TextIO

from bot.config import Settings

# A health check must answer well within the container engine's timeout (10 s in the image).
TIMEOUT = 5.0
# A listener on every address is asked on loopback.
LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def health_url(settings: Settings) -> str | None:
    """Return the /healthz URL of the bot these settings describe, or None if it has no listener."""
    if settings.http_listen is None:
        return None
    host, port = settings.http_listen
    host = LOOPBACK.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def run(settings: Settings, out: TextIO) -> int:
    """Print the bot's health in one line; return 0 when healthy, 1 otherwise."""
    url = health_url(settings)
    if url is None:
        print("unhealthy: no listener to ask (set NEWSBOT_HTTP_LISTEN)", file=out)
        return 1
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:
            body = json.loads(answer.read())
    except urllib.error.HTTPError as exc:  # 503: the bot says why
        try:
            reason = json.loads(exc.read()).get("reason", exc.reason)
        except ValueError:
            reason = exc.reason
        print(f"unhealthy: {reason}", file=out)
        return 1
    except (OSError, ValueError) as exc:  # refused, timed out, not our JSON
        print(f"unhealthy: {url} does not answer ({exc})", file=out)
        return 1
    print(f"healthy: store answering, {body.get('sources', 0)} sources on time", file=out)
    return 0
