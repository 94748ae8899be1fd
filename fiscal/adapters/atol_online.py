"""ATOL Online, API v5 (FFD 1.2): ``POST getToken``, ``POST <group>/sell|sell_refund`` with the
``Token`` header, ``GET <group>/report/<uuid>``. A second document with the same ``external_id`` is
answered with error 33 and the uuid of the first, so a retry never prints twice. docs/fiscal.md
cites the protocol."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Mapping
from typing import Any

from fiscal.adapters import Accepted, Connection, Fiscalized, Outcome, Refused, Unavailable, Waiting, call

#: ATOL Online's codes for "sno" (tag 1055).
SNO = {
    "osn": "osn",
    "usn_income": "usn_income",
    "usn_income_expense": "usn_income_outcome",
    "eshn": "esn",
    "psn": "patent",
}
PAYMENT_METHOD = {1: "full_prepayment", 4: "full_payment"}
#: The error of a second document with an external id already taken (its uuid comes along).
DUPLICATE_EXTERNAL_ID = 33
#: Errors of a token that is missing, wrong or expired: get a new one and try once more.
TOKEN_ERRORS = frozenset({10, 11, 12, 13})
#: A token lives 24 hours; a new one is taken a little before.
TOKEN_LIFETIME_S = 23 * 3600


def _money(value: str) -> float:
    # ATOL's JSON carries amounts as numbers with two decimals.
    return float(value)


def receipt_body(
    external_id: str, doc: Mapping[str, Any], conn: Connection, now: dt.datetime
) -> dict[str, Any]:
    """The v5 request body of a fiscal document."""
    client: dict[str, str] = {"phone": doc["client_phone"]} if doc.get("client_phone") else {}
    if not client:
        client = {"email": conn.company_email}
    return {
        "external_id": external_id,
        "timestamp": now.strftime("%d.%m.%Y %H:%M:%S"),
        "receipt": {
            "client": client,
            "company": {
                "email": conn.company_email,
                "sno": SNO[doc["tax_system"]],
                "inn": conn.inn,
                "payment_address": conn.payment_address,
            },
            "items": [
                {
                    "name": it["name"],
                    "price": _money(it["price"]),
                    "quantity": it["quantity"],
                    "measure": it["measure_2108"],
                    "sum": _money(it["sum"]),
                    "payment_method": PAYMENT_METHOD[it["payment_method_1214"]],
                    "payment_object": it["payment_object_1212"],
                    "vat": {"type": it["vat_rate"], "sum": _money(it["vat_sum"])},
                }
                for it in doc["items"]
            ],
            "payments": [{"type": p["type"], "sum": _money(p["sum"])} for p in doc["payments"]],
            "vats": [{"type": v["type"], "sum": _money(v["sum"])} for v in doc["vats"]],
            "total": _money(doc["total"]),
        },
    }


def _error_text(body: Any, status: int) -> tuple[int | None, str]:
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return err.get("code"), f"ATOL Online error {err.get('code')}: {err.get('text') or 'no text'}"
    return None, f"ATOL Online answered HTTP {status}"


class AtolOnline:
    """The ATOL Online client: one token per account, renewed when refused or old."""

    max_items = 100
    requires_email = True

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _call(self, method: str, url: str, conn: Connection, **kwargs: Any) -> tuple[int, Any]:
        resp = call("ATOL Online", method, url, conn.timeout_s, **kwargs)
        try:
            return resp.status_code, resp.json()
        except ValueError:
            raise Unavailable(f"ATOL Online answered HTTP {resp.status_code} without JSON") from None

    def _token(self, conn: Connection, fresh: bool = False) -> str:
        key = (conn.base_url, conn.login)
        with self._lock:
            cached = self._tokens.get(key)
        if cached and not fresh and time.monotonic() - cached[1] < TOKEN_LIFETIME_S:
            return cached[0]
        status, body = self._call(
            "POST",
            f"{conn.base_url.rstrip('/')}/getToken",
            conn,
            json={"login": conn.login, "pass": conn.secret},
        )
        token = body.get("token") if isinstance(body, dict) else None
        if status != 200 or not token:
            raise Refused(_error_text(body, status)[1])
        with self._lock:
            self._tokens[key] = (token, time.monotonic())
        return token

    def _authorized(self, method: str, path: str, conn: Connection, **kwargs: Any) -> tuple[int, Any]:
        url = f"{conn.base_url.rstrip('/')}/{conn.group_code}/{path}"
        for fresh in (False, True):
            token = self._token(conn, fresh)
            status, body = self._call(method, url, conn, headers={"Token": token}, **kwargs)
            code, _ = _error_text(body, status)
            if code in TOKEN_ERRORS and not fresh:
                continue
            return status, body
        return status, body

    def send(self, conn: Connection, external_id: str, doc: Mapping[str, Any]) -> Accepted:
        """Register the document (``sell`` or ``sell_refund``)."""
        body = receipt_body(external_id, doc, conn, dt.datetime.now())
        status, answer = self._authorized("POST", doc["operation"], conn, json=body)
        code, text = _error_text(answer, status)
        uuid = answer.get("uuid") if isinstance(answer, dict) else None
        if code == DUPLICATE_EXTERNAL_ID and uuid:
            return Accepted(uuid)  # already taken under this external id: poll that one
        if code is not None or status != 200 or not uuid:
            raise Refused(text)
        return Accepted(uuid)

    def result(self, conn: Connection, uuid: str) -> Outcome:
        """The report of a document: ``wait``, ``done`` (with its fiscal data) or ``fail``."""
        status, answer = self._authorized("GET", f"report/{uuid}", conn)
        state = answer.get("status") if isinstance(answer, dict) else None
        if state == "wait":
            return Waiting()
        if state == "done":
            p = answer.get("payload") or {}
            return Fiscalized(
                fiscal_sign=str(p.get("fiscal_document_attribute", "")),
                document_number=str(p.get("fiscal_document_number", "")),
                receipt_number=str(p.get("fiscal_receipt_number", "")),
                fn_number=str(p.get("fn_number", "")),
                at=str(p.get("receipt_datetime", "")),
            )
        raise Refused(_error_text(answer, status)[1])
