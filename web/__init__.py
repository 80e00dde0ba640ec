"""The bot's own HTTP pages besides Slack's `/slack/events` (HTTP mode only): small WSGI apps, each registered once
by path in `bot.Bot.wsgi` (where the HTTP server's guards wrap them)."""
