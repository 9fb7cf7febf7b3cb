"""PTB handlers, one module per area; the wiring table is in bot.app."""
