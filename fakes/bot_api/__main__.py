"""Serve the fake Bot API until interrupted: ``python -m fakes.bot_api --token T --port P``."""

from fakes.bot_api.standalone import main

main()
