"""Call centre: clients and dossiers, addresses, zones, order entry, the operator workspace."""
