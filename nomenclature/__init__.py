"""Nomenclature: the catalogue, organizations and tax systems, distribution conditions, receipts."""
