"""Fortinet FortiGate (FortiOS): the config tree reader, objects, services and firewall policies."""
