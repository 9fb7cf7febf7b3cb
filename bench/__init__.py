"""Benchmarks that print their figures (``./stammgast bench [name]``). Each starts the real
parts it measures: the Rasa server with the trained model, the bot process, the fake Bot API."""
