"""The command line's commands (`python bot.py --help` lists them); bot.py parses and dispatches."""
