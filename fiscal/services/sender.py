"""The sender: a pump of the outbox relay's loop (thread or worker, never a request) that takes due
receipts, checks them, sends them to their register under their external id and polls the result;
unanswered tries back off and, after the last, the receipt fails for a manager to resend."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select, update

from fiscal import ffd, secrets
from fiscal.adapters import Accepted, Connection, Fiscalized, Refused, Register, Unavailable, Waiting
from fiscal.models import FiscalReceipt, FiscalRegister, ReceiptState
from fiscal.services.receipts import REFUSED_MARK, waiting_for
from fiscal.services.registers import register_for
from frontoffice.db import Database, utcnow
from frontoffice.outbox import RelayPolicy
from frontoffice.outbox.claims import claim_due
from nomenclature.models import Organization

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Step:
    """What one try of a receipt came to, to be recorded."""

    state: str
    message: str | None = None
    register_id: int | None = None
    provider_uuid: str | None = None
    fiscalized: Fiscalized | None = None
    #: Counts as a failed try (backs off).
    failed_try: bool = False
    #: The register did not answer: after the policy's last try the receipt fails.
    unanswered: bool = False
    #: The register refused it for good: nothing was printed.
    refused: bool = False
    #: Try again after this many seconds (None: the policy's backoff after a failed try, else now).
    again_in_s: float | None = None


def wake_followers(session, done: FiscalReceipt, now: dt.datetime) -> None:
    """The receipts of the same order, organization and tax system that wait for ``done`` (a
    settlement or refund for its prepayment, a new prepayment for its refund) go now that it is
    fiscalized."""
    session.execute(
        update(FiscalReceipt)
        .where(
            FiscalReceipt.order_id == done.order_id,
            FiscalReceipt.organization_id == done.organization_id,
            FiscalReceipt.tax_system == done.tax_system,
            FiscalReceipt.id != done.id,
            FiscalReceipt.state == ReceiptState.PENDING,
        )
        .values(next_attempt_at=now, attempts=0)
        .execution_options(synchronize_session=False)
    )


class FiscalSender:
    """Sends and polls due receipts from a few threads, so one slow register holds up only its own."""

    def __init__(
        self,
        db: Database,
        registers: dict[str, Register],
        *,
        app_secret: str,
        timeout_s: float,
        poll_s: float,
        policy: RelayPolicy,
        threads: int = 2,
    ):
        self.db = db
        self.registers = registers
        self.app_secret = app_secret
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self.policy = policy
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: set[int] = set()
        self._lock = threading.Lock()

    def pump(self, wait: bool = False) -> int:
        """Claim the due receipts and work on them (in the pool; ``wait``: here, until done)."""
        claimed = self.claim()
        if wait:
            for receipt_id in claimed:
                self.work(receipt_id)
        elif claimed:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="fiscal-sender")
            for receipt_id in claimed:
                self._pool.submit(self.work, receipt_id)
        return len(claimed)

    def claim(self, limit: int = 50) -> list[int]:
        """Take due receipts nobody works on (a conditional UPDATE each: one sender wins)."""
        with self._lock:
            busy = set(self._in_flight)
        taken = claim_due(
            self.db,
            FiscalReceipt,
            pending=ReceiptState.OPEN,
            state="state",
            hold_s=2 * self.timeout_s + 30,
            limit=limit,
            skip=busy,
        )
        with self._lock:
            self._in_flight.update(taken)
        return taken

    def work(self, receipt_id: int) -> Step | None:
        """One try of a claimed receipt, recorded."""
        try:
            step = self._try(receipt_id)
            if step is not None:
                self._record(receipt_id, step)
            return step
        except Exception:
            log.exception("fiscal receipt %s could not be sent or recorded", receipt_id)
            return None
        finally:
            with self._lock:
                self._in_flight.discard(receipt_id)

    def _connection(self, reg: FiscalRegister) -> Connection:
        return Connection(
            base_url=reg.base_url,
            group_code=reg.group_code,
            login=reg.login,
            secret=secrets.reveal(reg.secret_encrypted, reg.secret_env, self.app_secret),
            inn=reg.inn,
            payment_address=reg.payment_address,
            company_email=reg.company_email,
            timeout_s=self.timeout_s,
        )

    def _try(self, receipt_id: int) -> Step | None:
        # What a try needs is read first; no session stays open while a register is asked.
        with self.db.reading() as s:
            receipt = s.get(FiscalReceipt, receipt_id)
            if receipt is None or receipt.state not in ReceiptState.OPEN:
                return None
            if receipt.state == ReceiptState.SENT:
                reg = s.get(FiscalRegister, receipt.register_id) if receipt.register_id else None
                if reg is None:
                    return Step(ReceiptState.FAILED, "The register that took this receipt was removed.")
                try:
                    conn = self._connection(reg)
                except secrets.SecretUnavailable as exc:
                    return Step(ReceiptState.SENT, str(exc), failed_try=True, unanswered=True)
                polled = (self.registers[reg.kind], conn, receipt.provider_uuid or "")
            else:
                polled = None
        if polled is not None:
            return self._poll(*polled)
        return self._first_try(receipt_id)

    def _first_try(self, receipt_id: int) -> Step | None:
        with self.db.reading() as s:
            receipt = s.get(FiscalReceipt, receipt_id)
            if receipt is None or receipt.state != ReceiptState.PENDING:
                return None
            waits = waiting_for(s, receipt)
            if waits is not None:
                # The fiscalization of what it waits for wakes it (see _record): until then it is
                # looked at again only after the backoff's longest wait.
                return Step(
                    ReceiptState.PENDING, waits, failed_try=True, again_in_s=self.policy.backoff_max_s
                )
            reg = register_for(s, receipt.organization_id, receipt.tax_system)
            org_inn = (
                s.scalar(select(Organization.inn).where(Organization.id == receipt.organization_id)) or ""
            )
            adapter = self.registers[reg.kind] if reg is not None else None
            facts = None
            if reg is not None and adapter is not None:
                facts = ffd.RegisterFacts(
                    reg.inn,
                    list(reg.tax_systems or ()),
                    reg.payment_address,
                    reg.company_email,
                    adapter.max_items,
                    adapter.requires_email,
                )
            problems = ffd.problems(receipt.document, facts, org_inn)
            if problems:
                # Refused before sending: it stays pending, the reason shown. Only an administrator
                # can fix it, and a change of the organization's register wakes it at once
                # (registers.wake_waiting), so the next look is the backoff's longest wait, not a
                # doubling series: a chain with no register yet keeps no sender busy.
                return Step(
                    ReceiptState.PENDING,
                    " ".join(problems),
                    failed_try=True,
                    again_in_s=self.policy.backoff_max_s,
                )
            assert reg is not None and adapter is not None
            try:
                conn = self._connection(reg)
            except secrets.SecretUnavailable as exc:
                return Step(ReceiptState.PENDING, str(exc), failed_try=True)
            external_id, doc, register_id = receipt.external_id, receipt.document, reg.id
        if not self._offer(receipt_id, external_id):
            # An edit rewrote it since it was read (a new external id): the next round sends that.
            return Step(ReceiptState.PENDING, None)
        try:
            accepted: Accepted = adapter.send(conn, external_id, doc)
        except Unavailable as exc:
            return Step(
                ReceiptState.PENDING, str(exc), register_id=register_id, failed_try=True, unanswered=True
            )
        except Refused as exc:
            return Step(ReceiptState.FAILED, REFUSED_MARK + str(exc), register_id=register_id, refused=True)
        # Accepted: poll right away (a register often has the result at once).
        polled = self._poll(adapter, conn, accepted.uuid)
        return dataclasses.replace(polled, register_id=register_id, provider_uuid=accepted.uuid)

    def _offer(self, receipt_id: int, external_id: str) -> bool:
        """Mark the receipt handed to a register, before it is: from now on an edit refunds it
        rather than rewriting it. Only under the external id read (False: rewritten meanwhile)."""
        with self.db.unit_of_work() as s:
            return bool(
                s.execute(
                    update(FiscalReceipt)
                    .where(
                        FiscalReceipt.id == receipt_id,
                        FiscalReceipt.external_id == external_id,
                        FiscalReceipt.state == ReceiptState.PENDING,
                    )
                    .values(offered_at=utcnow())
                    .execution_options(synchronize_session=False)
                ).rowcount
            )

    def _poll(self, adapter: Register, conn: Connection, uuid: str) -> Step:
        try:
            outcome = adapter.result(conn, uuid)
        except Unavailable as exc:
            return Step(ReceiptState.SENT, str(exc), provider_uuid=uuid, failed_try=True, unanswered=True)
        except Refused as exc:
            return Step(ReceiptState.FAILED, REFUSED_MARK + str(exc), refused=True)
        if isinstance(outcome, Waiting):
            return Step(ReceiptState.SENT, None, provider_uuid=uuid, again_in_s=self.poll_s)
        return Step(ReceiptState.DONE, None, provider_uuid=uuid, fiscalized=outcome)

    def _record(self, receipt_id: int, step: Step) -> None:
        now = utcnow()
        with self.db.unit_of_work() as s:
            r = s.get(FiscalReceipt, receipt_id)
            if r is None or r.state not in ReceiptState.OPEN:
                return
            r.claimed_until = None
            r.updated_at = now
            r.message = step.message
            r.state = step.state
            if step.register_id is not None:
                r.register_id = step.register_id
            if step.refused:
                r.provider_uuid = None  # the register refused it: nothing was printed
                r.offered_at = None
            elif step.provider_uuid is not None:
                r.provider_uuid = step.provider_uuid
            if step.fiscalized is not None:
                f = step.fiscalized
                r.fiscal_sign, r.fiscal_document_number = f.fiscal_sign, f.document_number
                r.fiscal_receipt_number, r.fn_number, r.fiscal_at = f.receipt_number, f.fn_number, f.at
                wake_followers(s, r, now)
            if step.failed_try:
                r.attempts += 1
                if step.unanswered and r.attempts >= self.policy.max_attempts:
                    r.state = ReceiptState.FAILED
                    log.error(
                        "fiscal receipt %s failed after %s tries: %s", receipt_id, r.attempts, step.message
                    )
                wait = step.again_in_s if step.again_in_s is not None else self.policy.delay(r.attempts)
                r.next_attempt_at = now + dt.timedelta(seconds=wait)
            else:
                r.next_attempt_at = now + dt.timedelta(seconds=step.again_in_s or 0)

    def shutdown(self) -> None:
        """Stop the pool (waits for the tries under way)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
