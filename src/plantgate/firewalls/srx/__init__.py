"""Juniper SRX (Junos): the hierarchy reader, applications and security policies."""
