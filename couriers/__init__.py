"""Couriers: shifts, positions and tracks, the mobile API, the OsmAnd endpoint, the order pool, dispatch."""
