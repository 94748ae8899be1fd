"""ATOL Web Server (the driver's Web Requests on a till): ``POST /api/v2/requests`` with
``{"uuid", "request": [task]}`` queues a task, ``GET /api/v2/requests/<uuid>`` reads its result
(``inProgress``, ``ready`` with the fiscal parameters, ``error``). The uuid is our external id: a
task with a uuid already queued is answered 409, so a retry never prints twice. docs/fiscal.md
cites the protocol."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from fiscal.adapters import Accepted, Connection, Fiscalized, Outcome, Refused, Unavailable, Waiting, call

TAXATION = {
    "osn": "osn",
    "usn_income": "usnIncome",
    "usn_income_expense": "usnIncomeOutcome",
    "eshn": "esn",
    "psn": "patent",
}
TASK = {"sell": "sell", "sell_refund": "sellReturn"}
PAYMENT_METHOD = {1: "fullPrepayment", 4: "fullPayment"}
PAYMENT_OBJECT = {1: "commodity", 4: "service"}
PAYMENT_TYPE = {0: "cash", 1: "electronically", 2: "prepaid"}
#: States of a task still under way.
IN_PROGRESS = frozenset({"wait", "inProgress"})


def task(doc: Mapping[str, Any], conn: Connection) -> dict[str, Any]:
    """The JSON task of a fiscal document."""
    out: dict[str, Any] = {
        "type": TASK[doc["operation"]],
        "taxationType": TAXATION[doc["tax_system"]],
        "operator": {"name": conn.login or "Front office"},
        "paymentsPlace": conn.payment_address,
        "items": [
            {
                "type": "position",
                "name": it["name"],
                "price": float(it["price"]),
                "quantity": it["quantity"],
                "amount": float(it["sum"]),
                "measurementUnit": it["measure_2108"],
                "paymentMethod": PAYMENT_METHOD[it["payment_method_1214"]],
                "paymentObject": PAYMENT_OBJECT.get(it["payment_object_1212"], "commodity"),
                "tax": {"type": it["vat_rate"], "sum": float(it["vat_sum"])},
            }
            for it in doc["items"]
        ],
        "payments": [{"type": PAYMENT_TYPE[p["type"]], "sum": float(p["sum"])} for p in doc["payments"]],
        "total": float(doc["total"]),
    }
    if doc.get("client_phone"):
        out["clientInfo"] = {"emailOrPhone": doc["client_phone"]}
    return out


class AtolWebServer:
    """The Web Requests client; basic auth when the server is set up with a login."""

    max_items = 500
    requires_email = False

    def _call(self, method: str, url: str, conn: Connection, **kwargs: Any) -> requests.Response:
        auth = (conn.login, conn.secret) if conn.secret else None
        return call("ATOL Web Server", method, url, conn.timeout_s, auth=auth, **kwargs)

    def send(self, conn: Connection, external_id: str, doc: Mapping[str, Any]) -> Accepted:
        """Queue the task under ``external_id`` (a UUID); 409: it is queued already."""
        body = {"uuid": external_id, "request": [task(doc, conn)]}
        resp = self._call("POST", f"{conn.base_url.rstrip('/')}/api/v2/requests", conn, json=body)
        if resp.status_code in (200, 201, 409):
            return Accepted(external_id)
        raise Refused(_error(resp))

    def result(self, conn: Connection, uuid: str) -> Outcome:
        """The task's result."""
        resp = self._call("GET", f"{conn.base_url.rstrip('/')}/api/v2/requests/{uuid}", conn)
        if resp.status_code != 200:
            raise Refused(_error(resp))
        try:
            results = resp.json().get("results") or []
        except (ValueError, AttributeError):
            raise Unavailable("ATOL Web Server answered without JSON") from None
        if not results:
            raise Unavailable("ATOL Web Server has no result for the task yet")
        first = results[0]
        status = first.get("status")
        if status in IN_PROGRESS:
            return Waiting()
        if status == "ready":
            params = (first.get("result") or {}).get("fiscalParams") or {}
            return Fiscalized(
                fiscal_sign=str(params.get("fiscalDocumentSign", "")),
                document_number=str(params.get("fiscalDocumentNumber", "")),
                receipt_number=str(params.get("fiscalReceiptNumber", "")),
                fn_number=str(params.get("fnNumber", "")),
                at=str(params.get("fiscalDocumentDateTime", "")),
            )
        error = first.get("errorDescription") or status
        raise Refused(f"ATOL Web Server error {first.get('errorCode')}: {error}")


def _error(resp: requests.Response) -> str:
    try:
        err = resp.json().get("error") or {}
    except (ValueError, AttributeError):
        err = {}
    return f"ATOL Web Server answered HTTP {resp.status_code}: {err.get('description') or resp.text[:200]}"
