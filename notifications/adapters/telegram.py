"""Messages through the Telegram Bot API: ``POST {base}/bot<token>/sendMessage`` with JSON
``{"chat_id", "text"}`` (https://core.telegram.org/bots/api#sendmessage).

Every answer is ``{"ok": true, "result": Message}`` or ``{"ok": false, "error_code",
"description", "parameters"?}`` (https://core.telegram.org/bots/api#making-requests); flood control
answers 429 with ``parameters.retry_after`` seconds (ResponseParameters). A 400 (``chat not found``)
or 403 (``bot was blocked by the user``) is final; a 429, a 5xx or no answer is tried again."""

from __future__ import annotations

import requests

from notifications.adapters import ANSWER_KEPT, SendResult, transport_error


class TelegramBot:
    """The Telegram channel: one bot, messages to the chat a client started with it."""

    name = "telegram"

    def __init__(self, base_url: str, token: str, timeout_s: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s
        self._http = requests.Session()

    def send(self, to: str, text: str) -> SendResult:
        """Send ``text`` to chat ``to``."""
        url = f"{self.base_url}/bot{self.token}/sendMessage"
        try:
            resp = self._http.post(url, json={"chat_id": to, "text": text}, timeout=self.timeout_s)
        except requests.RequestException as exc:
            return transport_error(exc, self.timeout_s)
        try:
            answer = resp.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            return SendResult(
                False,
                error=f"HTTP {resp.status_code}, not JSON: {resp.text[:ANSWER_KEPT]}",
                retry=resp.status_code >= 500 or resp.status_code == 429,
            )
        if answer.get("ok") is True and isinstance(answer.get("result"), dict):
            message_id = answer["result"].get("message_id")
            return SendResult(True, provider_id=None if message_id is None else str(message_id))
        code = answer.get("error_code") or resp.status_code
        error = f"Telegram {code}: {answer.get('description') or ''}"[:ANSWER_KEPT]
        if code == 429:
            params = answer.get("parameters") or {}
            wait = params.get("retry_after") if isinstance(params, dict) else None
            return SendResult(
                False, error=error, retry=True, retry_after_s=float(wait) if wait is not None else None
            )
        return SendResult(False, error=error, retry=not (400 <= int(code) < 500))
