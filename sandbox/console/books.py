"""The books panel: what QuickBooks (the emulator's ledger) and ConnectBooster (its snapshot) say about one client.

Pure functions of (ledger records, snapshot), so the figures are testable without a server or a browser.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.console.render import esc
from workflow.money import fmt

DEFAULT_CLIENT = "Atomar's Best Tackle"
SHOWN_INVOICES = 12  # a client with 120 invoices would swamp the panel
STAGES = {"autotask": "Autotask (PSA)", "quickbooks_online": "QuickBooks Online"}


def _dec(v: Any) -> Decimal:
    return Decimal(str(v or 0))


def books(customers: list[dict], invoices: list[dict], credit_memos: list[dict], payments: list[dict],
          snapshot: dict, client: str) -> dict:
    """The client's invoices and open credits on both sides, plus ConnectBooster's latest sync run."""
    customer = next((c for c in customers if c.get("DisplayName") == client), None)
    cid = customer["Id"] if customer else None
    mine = sorted((i for i in invoices if i["CustomerRef"]["value"] == cid),
                  key=lambda i: (i.get("TxnDate", ""), i.get("DocNumber", "")))
    qbo_invoices = [{"number": i.get("DocNumber"), "date": i.get("TxnDate"), "total": fmt(i.get("TotalAmt")),
                     "balance": fmt(i.get("Balance")), "open": _dec(i.get("Balance")) > 0} for i in mine]
    qbo_credits = [{"kind": "credit memo", "number": c.get("DocNumber"), "remaining": fmt(c.get("RemainingCredit"))}
                   for c in credit_memos if c["CustomerRef"]["value"] == cid and _dec(c.get("RemainingCredit")) > 0]
    qbo_credits += [{"kind": "unapplied payment", "number": p.get("PaymentRefNum") or p.get("Id"),
                     "remaining": fmt(p.get("UnappliedAmt"))}
                    for p in payments if p["CustomerRef"]["value"] == cid and _dec(p.get("UnappliedAmt")) > 0]
    org = next((o for o in snapshot.get("organizations") or [] if o.get("name") == client), None)
    oid = org["id"] if org else None
    cb_invoices = [{"number": i.get("number"), "date": i.get("transaction_date"), "total": fmt(i.get("total")),
                    "balance": fmt(i.get("balance")), "open": _dec(i.get("balance")) > 0,
                    "pending": bool(i.get("pending_payment"))}
                   for i in snapshot.get("invoices") or [] if i.get("organization_id") == oid]
    cb_credits = [{"id": c.get("id"), "kind": (c.get("kind") or "").replace("_", " "), "number": c.get("number"),
                   "remaining": fmt(c.get("remaining_amount"))}
                  for c in snapshot.get("credits") or []
                  if c.get("organization_id") == oid and c.get("status") == "open"
                  and _dec(c.get("remaining_amount")) > 0]
    syncs = snapshot.get("syncs") or []
    return {
        "client": client, "clients": sorted(c.get("DisplayName", "") for c in customers),
        "qbo": {"found": customer is not None, "invoices": qbo_invoices, "credits": qbo_credits},
        "cb": {"found": org is not None, "invoices": cb_invoices, "credits": cb_credits},
        "sync": _sync(syncs[0]) if syncs else None,
    }


def _sync(run: dict) -> dict:
    stage = next((s["integration_id"] for s in run.get("stages") or [] if s.get("status") == "active"), None)
    return {"id": run.get("id"), "status": run.get("status"), "stage": STAGES.get(stage, stage),
            "trigger": run.get("trigger"), "error": run.get("error")}


def _invoice_table(caption: str, rows: list[dict], side: str, person: bool = False) -> str:
    shown = rows[:SHOWN_INVOICES]
    # Guided mode: the person's "⋯ → Resync" on each ConnectBooster invoice.
    def act(r: dict) -> str:
        if not person:
            return ""
        return (f'<td><button type="button" data-person="resync" data-invoice="{esc(r["number"])}" '
                f'aria-label="Resync invoice {esc(r["number"])}">Resync</button></td>')

    body = "".join(
        f'<tr class="{"" if r["open"] else "paid"}"><th scope="row">{esc(r["number"])}</th><td>{esc(r["date"])}</td>'
        f'<td class="num">{esc(r["total"])}</td><td class="num balance">{esc(r["balance"])}'
        f'{" <span class=pending>payment pending</span>" if r.get("pending") else ""}</td>{act(r)}</tr>' for r in shown)
    more = (f'<tr><td colspan="4" class="more">…and {len(rows) - len(shown)} more</td></tr>'
            if len(rows) > len(shown) else "")
    empty = '<tr><td colspan="4" class="more">No invoices.</td></tr>' if not rows else ""
    return (f'<table class="ledger" data-side="{side}"><caption>{esc(caption)}</caption><thead><tr>'
            f'<th scope="col">Invoice</th><th scope="col">Date</th><th scope="col" class="num">Total</th>'
            f'<th scope="col" class="num">Balance</th></tr></thead><tbody>{body}{more}{empty}</tbody></table>')


def _credits(rows: list[dict], side: str) -> str:
    if not rows:
        return f'<p class="credits none" data-side="{side}">No open credits.</p>'
    items = "".join(
        f'<li>{"<strong>" + esc(r["id"]) + "</strong> · " if r.get("id") else ""}{esc(r["kind"])} '
        f'#{esc(r["number"])} · <strong>{esc(r["remaining"])}</strong> left</li>' for r in rows)
    return f'<ul class="credits" data-side="{side}" aria-label="Open credits">{items}</ul>'


def _sync_now(sync_from: str | None) -> str:
    """Sync Now from a date, prefilled with the one the open checklist asks for (empty: yesterday, the portal's)."""
    return ('<p class="person">Integrations → QuickBooks Online: <label for="sync-from">sync from</label> '
            f'<input type="date" id="sync-from" data-asked="{esc(sync_from or "")}" value="{esc(sync_from or "")}" '
            'aria-describedby="sync-from-hint"> <button type="button" data-person="sync">Sync Now</button> '
            '<span class="side-note" id="sync-from-hint">the date the thread asks for; empty: yesterday</span></p>')


def books_html(data: dict, person: bool = False, sync_from: str | None = None) -> str:
    """The panel's body: QuickBooks first (where the bot writes), then ConnectBooster (what the client sees);
    `person`: guided mode's portal actions (resync an invoice, Sync Now from `sync_from`, the checklist's date)."""
    sync = data.get("sync")
    sync_line = ""
    if sync:
        stage = f" · {esc(sync['stage'])}" if sync.get("stage") else ""
        err = f" · {esc(sync['error'])}" if sync.get("error") else ""
        sync_line = (f'<p class="sync sync-{esc(sync["status"])}">Latest sync {esc(sync["id"])}: '
                     f'<strong>{esc(sync["status"])}</strong>{stage}{err}</p>')
    parts = []
    for side, title, note in (("qbo", "QuickBooks Online", "the bot writes here first"),
                              ("cb", "ConnectBooster", "the client portal; changes arrive by resync and sync")):
        d = data[side]
        if not d["found"]:
            parts.append(f'<section class="side" data-side="{side}"><h3>{title}</h3><p>Not found.</p></section>')
            continue
        parts.append(f'<section class="side" data-side="{side}" aria-labelledby="side-{side}"><h3 id="side-{side}">'
                     f'{title} <span class="side-note">{note}</span></h3>'
                     f'{_invoice_table(title + " invoices", d["invoices"], side, person and side == "cb")}'
                     f'<h4>Credits</h4>{_credits(d["credits"], side)}'
                     f'{sync_line if side == "cb" else ""}{_sync_now(sync_from) if person and side == "cb" else ""}</section>')
    return "".join(parts)
