"""Carriers: the networks messages leave and arrive through (sandbox, SMPP)."""
