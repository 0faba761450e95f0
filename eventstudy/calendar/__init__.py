"""Step 2 of the data's path: exchange sessions, the listings calendar and its lock-up tranches,
the events they make, and the upcoming-expiry check (``upcoming``, ``alerts``, ``ics``)."""
