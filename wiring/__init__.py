"""The composition root: settings in, a running bot out.

Everything that knows the concrete classes lives here: it reads `config.settings`, opens the
adapters (database, venue, metrics, notifications), maps settings to domain values
(`settings_maps.py`) and starts the actor tree (`bot.py`). `supervisor.py` and `cli/` call it;
nothing below it (actors, app, dca, adapters) imports it. See docs/architecture.md.
"""
