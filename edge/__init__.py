"""The bot's edge, where outsiders reach it: every HTTP route behind one set of guards (routes.py), the HTTP
server's connection limits (server.py), Bolt's logger (logs.py) and the fair queue of background work (fair.py).

Nothing here imports the rest of the bot; bot.py wires it, and handlers/ queue their slow work on the fair queue.
"""
