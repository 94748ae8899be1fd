"""Call centre: clients and dossiers, addresses, zones, antifraud, tickets, bonuses, the operator workspace."""
