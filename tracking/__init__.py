"""The customer's side of an order: a public, expiring tracking link with the status and a live ETA."""
