"""What the bot says in Slack, and how it gets there. Nothing here listens to Slack (handlers/ does).

    blocks/         pure Block Kit builders: domain objects in, (text, blocks) or a view out
    notifier.py     a job's (or a sweep's) events -> rows of the outbox, one per message and purpose
    deliverer.py    the outbox's one sending thread: order per job, pacing, rate limits, joins, resends
    undeliverable.py  what a permanent refusal from Slack does (cancel the request, tell the requester)
    digest.py       the daily digest, queued once per day
"""
