"""Seeding a treaty from what a plant already has: Nmap scans, NetBox, asset spreadsheets.

``seed`` holds the neutral records every reader produces, ``propose`` turns them into
zones and assets, and ``merge`` writes them into the treaty folder without ever
overwriting a human edit.
"""
