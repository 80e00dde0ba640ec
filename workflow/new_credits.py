"""New credits, wired once by bot.py: the index, the watcher, the proposals, the webhook route.

    QBO_WEBHOOK_VERIFIER_TOKEN set, HTTP mode   POST /quickbooks/webhooks is served (Socket Mode has no HTTP server)
    QBO_CDC_POLL_SECONDS > 0 (default 300)      change data capture, every N seconds
    PROPOSALS_CHANNEL or NOTIFY_CHANNEL         where proposals go (neither: the index is kept, nothing proposed)
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from data.credit_index import CreditIndex
from data.states import Mode
from integrations.quickbooks_webhooks import PATH as WEBHOOKS_PATH
from integrations.quickbooks_webhooks import webhook_app
from workflow.credit_watch import CreditWatch
from workflow.proposals import ProposalService

log = logging.getLogger(__name__)
__all__ = ["WEBHOOKS_PATH", "new_credits", "webhook_route"]


def new_credits(bot, settings, clock: Callable[[], datetime]) -> CreditWatch:
    """The watcher over a new index; proposals go through the sweep service; guided mode reads the index."""
    index = CreditIndex(bot.connections.get)
    proposals = ProposalService(sweeps=bot.runner.sweeps, directory=bot.directory, policy=bot.policy,
                                channel=settings.proposal_channel, now=clock)
    bot.service.proposals = proposals  # a request for a proposed credit closes its proposal
    webhooks = bool(settings.qbo_webhook_verifier_token)
    if webhooks and settings.socket_mode:
        log.warning("QBO_WEBHOOK_VERIFIER_TOKEN is set but Socket Mode serves no HTTP: new credits come from CDC "
                    "polling only (QBO_CDC_POLL_SECONDS)")
    watch = CreditWatch(qbo=bot.qbo, index=index, proposals=proposals if settings.proposal_channel else None,
                        poll_seconds=settings.qbo_cdc_poll_seconds, webhooks=webhooks and not settings.socket_mode,
                        now=clock)
    if bot.mode == Mode.GUIDED:
        bot.directory.credits = watch.open_credits  # the index, once kept fresh and filled; else the full read
    log.info("new credits: webhooks %s, CDC %s, proposals %s", "on" if watch.webhooks else "off",
             f"every {settings.qbo_cdc_poll_seconds:g} s" if settings.qbo_cdc_poll_seconds > 0 else "off",
             f"in {settings.proposal_channel}" if watch.proposals else "off (no channel)")
    return watch


def webhook_route(bot) -> Callable | None:
    """The WSGI app of POST /quickbooks/webhooks when the verifier token is set (one place: Bot.wsgi)."""
    token = bot.settings.qbo_webhook_verifier_token
    if not token:
        return None
    return webhook_app(verifier_token=token, realm_id=bot.qbo.realm_id, store=bot.watch.index.store_notices,
                       wake=bot.watch.wake)
