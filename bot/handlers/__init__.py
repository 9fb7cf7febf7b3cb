"""PTB handlers, one module per area. Each handler reads the update, calls one use case of
``domain`` and renders what it returns; which handler answers what (and who may use it) is
declared in ``bot.app``'s tables. Handlers never import each other: what several of them show
is in ``bot.menus``, ``bot.chat``, ``bot.owner`` and ``bot.staff``."""
