"""The NLU side of Stammgast: the Rasa project, the scripts that install, train, serve and
evaluate it, and the async HTTP client the bot uses.

Rasa 3.6 runs in its own Python 3.10 virtual environment (it pins SQLAlchemy 1.4 and
pydantic 1), so nothing here imports Rasa: the bot's environment talks to it through the
`rasa` command line and over HTTP. This package never imports bot, domain or storage.
"""
