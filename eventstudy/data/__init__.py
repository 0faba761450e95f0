"""Step 1 of the data's path: where prices come from (Yahoo via yfinance, the bundled real data in
``data/``, a user's files), how they are cleaned, cached on disk and loaded per ticker."""
