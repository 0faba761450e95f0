"""Step 4: the public entry points (``lockup_study``, ``event_study``, ``batch_study``,
``listing_study``, ``garch_study``); the result objects they return live in
``eventstudy.results``."""
