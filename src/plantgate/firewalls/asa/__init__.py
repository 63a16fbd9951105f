"""Cisco ASA: the config reader, objects, ACLs and the device's fixed tables, in one place."""
