"""Fiscal registers: every receipt the product computes reaches a cash register or a cloud fiscal
service (ATOL Online, ATOL Web Server), exactly once, when money moves. See docs/fiscal.md."""
