"""Guided mode's messages: the ConnectBooster steps in the help article's words and order, each a thread reply
with what to do, what to expect, a link and buttons; the parent's checklist; the notice.

Pure builders: a job and its events in, (text, blocks) out. `reply_for` returns FALLBACK for events it does
not word itself (approval, the QuickBooks write...), which blocks/job.py words as in API mode; `GuidedWording`
is the guided `Wording` (messages/wording.py) built on them.
"""
from __future__ import annotations

from data.events import EventKind
from data.jobs import Event, Job
from data.states import JobState
from messages.blocks import job as job_blocks
from messages.blocks.common import button, confirm_dialog, context, esc, fmt, kind_label, message_text, section
from messages.blocks.times import when
from messages.wording import Message, Wording

PSA_NOTE = ("_Note: if you use a PSA such as Autotask or ConnectWise, that sync will run first, followed by "
            "QuickBooks Online._")
FALLBACK = object()  # "not a guided message": the caller uses blocks/job.py
NAME = job_blocks.NAME
STEP_TITLES = {JobState.GUIDED_RESYNC: "Resync the invoice", JobState.GUIDED_SYNC: "Run the sync",
               JobState.GUIDED_CHECK: "Check"}
ORDER = [JobState.GUIDED_RESYNC, JobState.GUIDED_SYNC, JobState.GUIDED_CHECK]


def portal(url: str, label: str = "ConnectBooster") -> str:
    """A link to the company's ConnectBooster portal (CONNECTBOOSTER_PORTAL_URL), or just the name."""
    return f"<{url}|{esc(label)}>" if url else esc(label)


def still_shows_advice(sync_from: str | None, invoices: str) -> str:
    """The help article's advice when an organizational credit still shows after the sync (`invoices`: escaped)."""
    start = esc(sync_from or "the credit's date", 40)
    return ("As the help article advises: go to *Integrations* → *QuickBooks Online*, widen the sync date range (set "
            f"it back before {start}, to the credit's date or earlier), click *Sync Now* and wait until it completes; "
            f"then resync {invoices} again (*Entities* → *Invoices* → ⋯ → *Resync*) and check once more.")


def reminder(who, what: str, minutes) -> str:
    """A reminder mentioning the person who should act (`what`: escaped mrkdwn naming the step)."""
    who = f"<@{esc(who, 40)}>" if who else "Approvers,"
    return (f":bell: {who} reminder: {what} has waited {esc(minutes, 10)} minutes for a confirmation. "
            "The buttons above still work.")


def _credit(job: Job) -> str:
    return f"{kind_label(job.credit_kind)} #{esc(job.credit_number, 100)}"


def _expected(job: Job) -> str:
    if job.invoice_balance_after is None or job.invoice_total is None:
        return "its balance as QuickBooks shows it"
    return f"*{fmt(job.invoice_balance_after, job.currency)} of {fmt(job.invoice_total, job.currency)}*"


def _buttons(job: Job, block: str, *pairs: tuple[str, str, str | None]) -> dict:
    return {"type": "actions", "block_id": f"guided:{job.id}:{block}",
            "elements": [button(text, action, str(job.id), style=style) for text, action, style in pairs]}


def step_resync(job: Job, url: str) -> list[dict]:
    """Step 1: the article's steps 13-18."""
    text = (f"*Step 1 of 3 — Resync the invoice in ConnectBooster*\n"
            f"1. Return to {portal(url)}.\n2. Click *Entities* in the left-hand menu.\n"
            "3. Change the dropdown to *Invoices*.\n"
            f"4. Search for the invoice number *{esc(job.invoice_number, 100)}*.\n"
            "5. Click the three-dot menu (⋯) next to the invoice and select *Resync*.\n"
            f"*Expect:* the invoice balance updates to {_expected(job)}.")
    return [section(text), _buttons(job, "resync", ("Resynced", "guided_resynced", "primary"),
                                    ("Shows something else", "guided_mismatch", None))]


def step_sync(job: Job, url: str) -> list[dict]:
    """Step 2: the article's steps 19-23 and its PSA note."""
    text = (f"*Step 2 of 3 — Run the sync*\n"
            f"1. In {portal(url)}, go to *Integrations*.\n2. Select *QuickBooks Online*.\n3. Click *Sync Now*.\n"
            f"4. Adjust the sync date range: sync from *{esc(job.sync_from or 'yesterday', 40)}* (the day before the "
            "application, or the credit's date if older).\n"
            "5. Monitor the sync status until it completes (pending → active → complete in the sync history).\n"
            f"{PSA_NOTE}")
    return [section(text), _sync_buttons(job)]


def _sync_buttons(job: Job, started: bool = False) -> dict:
    pairs = [] if started else [("Sync started", "guided_sync_started", None)]
    pairs += [("Sync finished", "guided_sync_finished", "primary"), ("Sync failed", "guided_sync_failed", "danger")]
    return _buttons(job, "sync-started" if started else "sync", *pairs)


def step_check(job: Job, url: str) -> list[dict]:
    """Step 3: the article's last three steps."""
    invoice = (f"2. Verify invoice *{esc(job.invoice_number, 100)}* shows the updated balance {_expected(job)}.\n"
               if job.invoice_number else "")
    credit = (f"shows again under *Organizational Credits* with {fmt(job.amount, job.currency)} open"
              if job.kind == "undo" else "is no longer visible under *Organizational Credits*")
    text = (f"*Step 3 of 3 — Check*\n1. Return to the client profile of *{esc(job.client_name, NAME)}* in "
            f"{portal(url)}.\n{invoice}"
            f"{'3' if invoice else '2'}. Confirm the organizational credit ({_credit(job)}, "
            f"{fmt(job.amount, job.currency)}) {credit}.")
    return [section(text), _check_buttons(job)]


def _check_buttons(job: Job) -> dict:
    return _buttons(job, "check", ("All clear", "guided_all_clear", "primary"),
                    ("Credit still shows", "guided_still_shows", None))


STEPS = {JobState.GUIDED_RESYNC: step_resync, JobState.GUIDED_SYNC: step_sync, JobState.GUIDED_CHECK: step_check}
CAUSES = {
    "not_picked_up": "ConnectBooster still shows the balance from before the payment: the resync read the invoice "
                     "before QuickBooks had the change, or another invoice was resynced. Check the invoice number, "
                     "wait a minute and *Resync* it again; if it still shows the old balance, go on with step 2 "
                     "(the sync brings the payment over).",
    "invoice_changed": "That is what QuickBooks shows now: the invoice changed after our payment (another payment or "
                       "credit). ConnectBooster is right; click *Resynced* and continue.",
    "other": "That matches neither the expected balance nor QuickBooks. Make sure it is the right invoice, then "
             "resync again; if it persists, run the sync (step 2) with the date range set back to the credit's "
             "date, and ask an approver to compare the invoice in QuickBooks.",
    "unreadable": "I couldn't read an amount in that. Resync again and compare the balance with the one expected "
                  "above.",
}


def _words(d: dict) -> str:
    return esc(str(d.get("shown") or ""), 200)


def reply_for(job: Job, event: Event, url: str = ""):
    """The thread reply for one event of a guided job; None: not shown; FALLBACK: worded as in API mode."""
    d, kind, who = event.details, event.kind, f"<@{event.actor}>"
    if kind in (EventKind.GUIDED_RESYNC, EventKind.GUIDED_SYNC):
        return _reply(":compass: QuickBooks is done; now the ConnectBooster half of the help article, step by step. "
                      "Click each button when the step is done.", STEPS[JobState(d.get("step"))](job, url))
    if kind == EventKind.GUIDED_RESYNCED:
        return _reply(f":white_check_mark: {who} resynced invoice {esc(job.invoice_number, 100)}.", step_sync(job, url))
    if kind == EventKind.GUIDED_MISMATCH:
        cause = CAUSES.get(d.get("cause"), CAUSES["other"])
        qbo = f" QuickBooks shows {fmt(d.get('qbo_balance'), job.currency)}." if d.get("qbo_balance") else ""
        text = (f":mag: {who} says ConnectBooster shows “{_words(d)}” (expected {_expected(job)}).{qbo}\n{cause}")
        return _reply(text, [_buttons(job, f"resync-{event.id}", ("Resynced", "guided_resynced", "primary"),
                                      ("Shows something else", "guided_mismatch", None))], both=False)
    if kind == EventKind.GUIDED_SYNC_STARTED:
        return _reply(f":repeat: {who} started the sync: *active*. Click *Sync finished* once the sync history shows "
                      "it complete (the PSA first, then QuickBooks Online).", [_sync_buttons(job, started=True)],
                      both=False)
    if kind == EventKind.GUIDED_SYNC_FAILED:
        return _reply(f":x: {who} reports the sync failed. Open the sync's details in the history for the reason, then "
                      "click *Sync Now* again (a PSA error stops the QuickBooks Online part too).",
                      [_sync_buttons(job)], both=False)
    if kind == EventKind.GUIDED_SYNC_FINISHED:
        return _reply(f":checkered_flag: {who} confirmed the sync is *complete*.", step_check(job, url))
    if kind == EventKind.GUIDED_CREDIT_STILL_SHOWS:
        text = (f":warning: {who} says the organizational credit still shows. "
                f"{still_shows_advice(job.sync_from, f'invoice {esc(job.invoice_number, 100)}')}")
        return _reply(text, [_check_buttons(job)], both=False)
    if kind == EventKind.GUIDED_REMINDER:
        step = STEP_TITLES.get(d.get("step"), "The current step")
        return _reply(reminder(d.get("who"), f"*{step}*", d.get("waited_minutes")), [], both=False)
    if kind == EventKind.RETRY and job.state in STEPS:
        return _reply(f":leftwards_arrow_with_hook: {who} continued the checklist.", STEPS[job.state](job, url))
    if kind == EventKind.NEEDS_ATTENTION and d.get("guided"):
        text = f":warning: {esc(d.get('message'), 2900)}"
        return message_text(text), [section(text), {"type": "actions", "block_id": f"retry:{job.id}:{event.id}",
                                                    "elements": [button("Continue the checklist", "job_retry",
                                                                        str(job.id), style="primary")]}]
    if kind == EventKind.VERIFIED and d.get("guided"):
        what, seen = ("The undo is complete", "shows again") if job.kind == "undo" else ("Complete", "no longer shows")
        text = (f":white_check_mark: {what}: <@{esc(d.get('confirmed_by'), 40)}> confirmed in ConnectBooster that the "
                f"credit {seen}" + (f" and invoice {esc(job.invoice_number, 100)} shows {_expected(job)}"
                                    if job.invoice_number else "") + ".")
        if job.kind != "apply":
            return _reply(text, [], both=False)
        # As in API mode, approvers may reverse it (the click checks who, and the undo window).
        undo = button("Undo", "job_undo", str(job.id), confirm=confirm_dialog(
            "Undo this application?", f"Reverse {fmt(job.amount, job.currency)} of credit on invoice "
            f"{esc(job.invoice_number, 100)} in QuickBooks, then guide the ConnectBooster steps again?", "Undo",
            style="danger"))
        return _reply(text, [{"type": "actions", "block_id": f"undo:{job.id}", "elements": [undo]}], both=False)
    return FALLBACK


def _reply(text: str, blocks: list[dict], both: bool = True) -> tuple[str, list[dict]]:
    """A reply: the lead line, then (when given) the step's own blocks."""
    fallback = text if not both or not blocks else f"{text} {blocks[0]['text']['text'].splitlines()[0]}"
    return message_text(fallback), [section(text), *blocks]


def step_status(job: Job, events: list[Event]) -> list[tuple[str, str]]:
    """(step title, pending | active | complete | failed) for the parent's checklist."""
    seen = [e.kind for e in events]
    done_resync = EventKind.GUIDED_RESYNCED in seen or (EventKind.GUIDED_SYNC in seen and EventKind.GUIDED_RESYNC not in seen)
    done_sync = EventKind.GUIDED_SYNC_FINISHED in seen
    done_check = job.state in (JobState.VERIFIED, JobState.UNDONE)
    sync = "pending"
    for kind in seen:
        if kind == EventKind.GUIDED_SYNC_STARTED:
            sync = "active"
        elif kind == EventKind.GUIDED_SYNC_FAILED:
            sync = "failed"
    return [("Resync the invoice", "complete" if done_resync else "active" if job.state == JobState.GUIDED_RESYNC
             else "pending"),
            ("Run the sync", "complete" if done_sync else sync),
            ("Check", "complete" if done_check else "active" if job.state == JobState.GUIDED_CHECK else "pending")]


ICONS = {"pending": ":white_circle:", "active": ":large_blue_circle:", "complete": ":white_check_mark:",
         "failed": ":x:"}


def parent_message(job: Job, events: list[Event], undo: Job | None = None) -> tuple[str, list[dict]]:
    """API mode's request message plus the guided checklist, each step pending → active → complete."""
    text, blocks = job_blocks.parent_message(job, undo=undo)
    if undo is not None or not any(e.kind in (EventKind.GUIDED_RESYNC, EventKind.GUIDED_SYNC) for e in events):
        return text, blocks
    steps = step_status(job, events)
    label = _label(job, events, steps)
    title = f"Credit application #{job.id}" if job.kind == "apply" else \
        (f"Undo #{job.id}" if job.kind == "undo" else f"Resync #{job.id}")
    blocks = [section(f"*{title}* · {label}\n{job_blocks.summary(job, undo)}"), *blocks[1:]]
    line = " · ".join(f"{ICONS[s]} {i}. {name}: {s}" for i, (name, s) in enumerate(steps, 1))
    blocks.insert(len(blocks) - 1, context(f"ConnectBooster, confirmed by a person: {line}"))
    last = events[-1]
    if last.actor and last.actor != "bot" and str(last.kind).startswith(("guided_", EventKind.VERIFIED)):
        blocks.append(context(f"Last confirmation by <@{esc(last.actor, 40)}> {when(last.at)}"))
    return message_text(f"{text} — {label.split(' ', 1)[-1]}"), blocks


def _label(job: Job, events: list[Event], steps: list[tuple[str, str]]) -> str:
    if job.state == JobState.VERIFIED:
        return ":white_check_mark: Done — applied in QuickBooks, confirmed in ConnectBooster by a person"
    if job.state in STEPS:
        n = ORDER.index(job.state) + 1
        status = steps[n - 1][1]
        return f":compass: ConnectBooster step {n} of 3 ({STEP_TITLES[job.state].lower()}): {status}"
    return job_blocks.STATE_LABEL.get(job.state, esc(job.state))


def notice(job: Job, confirmed_by: str | None, permalink: str | None = None) -> tuple[str, list[dict]]:
    """The completion notice for NOTIFY_CHANNEL: as in API mode, saying a person confirmed ConnectBooster."""
    link = f" · <{permalink}|View thread>" if permalink else ""
    person = f"<@{esc(confirmed_by, 40)}>" if confirmed_by else "a person"
    client, amount = esc(job.client_name, NAME), fmt(job.amount, job.currency)
    if job.kind == "undo":
        text = (f":leftwards_arrow_with_hook: Credit application #{esc(job.undo_of)} for *{client}* "
                f"undone: *{amount}* back on {_credit(job)}; ConnectBooster confirmed by "
                f"{person} (guided).")
    elif job.kind == "resync_only":
        text = (f":white_check_mark: ConnectBooster resynced for *{client}*: {_credit(job)} no longer "
                f"shows, confirmed by {person} (guided). Requested by <@{job.requester_id}>.")
    else:
        text = (f":white_check_mark: Credit applied for *{client}*: *{amount}* "
                f"to invoice *{esc(job.invoice_number, 100)}*, requested by <@{job.requester_id}>, approved by "
                f"<@{job.approver_id}>; ConnectBooster steps confirmed by {person} (guided mode).")
    return message_text(text + link), [section(text + link)]


def mismatch_modal(job: Job, thread: str) -> dict:
    """"Shows something else": ask what ConnectBooster shows (private_metadata: job id and thread)."""
    return {"type": "modal", "callback_id": "guided_mismatch", "private_metadata": f"{job.id}|{thread}",
            "title": {"type": "plain_text", "text": "What does it show?"},
            "submit": {"type": "plain_text", "text": "Send"}, "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [section(f"Invoice *{esc(job.invoice_number, 100)}* should show {_expected(job)} after the "
                               "resync. What does ConnectBooster show instead?"),
                       {"type": "input", "block_id": "shown", "label": {"type": "plain_text", "text": "It shows"},
                        "element": {"type": "plain_text_input", "action_id": "shown", "max_length": 200,
                                    "placeholder": {"type": "plain_text", "text": "e.g. $120.00 of $120.00"}}}]}


class GuidedWording(Wording):
    """Guided mode's words: the checklist in the thread and on the request message; the rest as in API mode."""

    def __init__(self, tz: str = "UTC", portal_url: str = "") -> None:
        super().__init__(tz)
        self.portal_url = portal_url  # CONNECTBOOSTER_PORTAL_URL: the steps link to the portal

    def parent(self, job: Job, events: list[Event], undo: Job | None = None) -> Message:
        return parent_message(job, events, undo)

    def reply(self, job: Job, event: Event) -> Message | None:
        found = reply_for(job, event, self.portal_url)
        return super().reply(job, event) if found is FALLBACK else found

    def notice(self, job: Job, details: dict, permalink: str | None) -> Message:
        if details.get("guided"):  # a person confirmed ConnectBooster
            return notice(job, details.get("confirmed_by"), permalink)
        return super().notice(job, details, permalink)
