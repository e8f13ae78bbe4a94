"""How updates reach the bot: getUpdates long polling, or a webhook the fake POSTs them to."""

from __future__ import annotations

import asyncio
import copy
import itertools
import re
from collections import deque
from typing import Any

import aiohttp

from fakes.bot_api.protocol import ApiError, JSONDict, bad_request
from fakes.bot_api.state import BotApiState, MethodHandler

# What an empty allowed_updates list means: every type except these opt-in ones.
_DEFAULT_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
_CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"  # noqa: E501


class UpdatesMixin(BotApiState):
    """Serve getUpdates and the webhook methods, and POST updates to a webhook while one is set."""

    def _bot_api_methods(self) -> dict[str, MethodHandler]:
        return {
            **super()._bot_api_methods(),
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
        }

    def _set_allowed_updates(self, allowed: Any) -> None:
        """Apply an ``allowed_updates`` list; leave the setting alone if none was given."""
        if isinstance(allowed, list):
            with self._lock:
                self._allowed_updates = (
                    frozenset(str(a) for a in allowed) if allowed else _DEFAULT_UPDATES
                )

    async def _set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url")
        if not isinstance(url, str):
            raise bad_request("bad webhook: an HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        self.webhook_url = url
        self.webhook_secret = str(secret or "")
        self._set_allowed_updates(params.get("allowed_updates"))
        self._waiters.notify_all()
        if params.get("drop_pending_updates"):
            with self._lock:
                self._updates.clear()
        return True

    async def _delete_webhook(self, params: JSONDict) -> bool:
        self.webhook_url = ""
        self.webhook_secret = ""
        if params.get("drop_pending_updates"):
            with self._lock:
                self._updates.clear()
        return True

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        with self._lock:
            pending = len(self._updates)
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
        }

    async def _pump_webhook(self) -> None:
        """While a webhook is set, POST each queued update to it, one at a time, as Telegram does.

        With ``webhook_targets`` the fake also plays the load balancer: each update goes to the
        next target in turn, and one a target fails (refused, 5xx, wrong secret) is retried on
        the next target after a short pause, so an update is lost only if every target fails.
        """
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                await self._waiters.wait_until(
                    lambda: self._closing or bool(self.webhook_url and self._updates), 3600
                )
                if self._closing:
                    return
                with self._lock:
                    if not (self.webhook_url and self._updates):
                        continue
                    update = copy.deepcopy(self._updates[0])
                    targets = self.webhook_targets or [self.webhook_url]
                    target = targets[self._next_target % len(targets)]
                    self._next_target += 1
                headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret}
                if not self.webhook_secret:
                    headers = {}
                try:
                    async with session.post(target, json=update, headers=headers) as answer:
                        status = answer.status
                except (aiohttp.ClientError, TimeoutError, OSError):
                    status = 0
                with self._lock:
                    self.webhook_posts.append((target, int(update["update_id"]), status))
                    delivered = 200 <= status < 300 and bool(self._updates)
                    if delivered and self._updates[0]["update_id"] == update["update_id"]:
                        self._updates.popleft()
                self._waiters.notify_all()
                if not 200 <= status < 300:
                    await asyncio.sleep(0.2)

    def _take_updates(self, offset: int | None, limit: int) -> list[JSONDict]:
        """Confirm updates below ``offset`` and return up to ``limit`` deliverable ones."""
        with self._lock:
            if offset is not None and offset < 0:
                # Negative offsets keep only the last -offset updates, forgetting the rest.
                while len(self._updates) > -offset:
                    self._updates.popleft()
            elif offset is not None:
                while self._updates and self._updates[0]["update_id"] < offset:
                    self._updates.popleft()
            allowed = self._allowed_updates
            if allowed is not None:
                kept = [u for u in self._updates if self._update_type(u) in allowed]
                self._updates = deque(kept)
            return copy.deepcopy(list(itertools.islice(self._updates, limit)))

    @staticmethod
    def _update_type(update: JSONDict) -> str:
        return next((key for key in update if key != "update_id"), "")

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        offset = offset if isinstance(offset, int) and not isinstance(offset, bool) else None
        limit = params.get("limit")
        limit = limit if isinstance(limit, int) and 1 <= limit <= 100 else 100
        timeout = params.get("timeout")
        wait = float(timeout) if isinstance(timeout, int | float) and timeout > 0 else 0.0
        self._set_allowed_updates(params.get("allowed_updates"))
        with self._lock:
            self._poll_generation += 1
            generation = self._poll_generation
        self._waiters.notify_all()  # a newer poll terminates an older one with 409

        updates = self._take_updates(offset, limit)
        if updates or wait <= 0:
            return updates
        superseded = False

        def ready() -> bool:
            nonlocal superseded
            superseded = self._poll_generation != generation
            return self._closing or superseded or bool(self._take_updates(None, 1))

        await self._waiters.wait_until(ready, wait)
        if superseded:
            with self._lock:
                self.conflict_count += 1
            raise ApiError(409, _CONFLICT)
        return [] if self._closing else self._take_updates(None, limit)
