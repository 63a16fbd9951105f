"""Readers for the evidence PlantGate does not write itself: vulnerability feeds and advisories.

Each reader turns one public format (CISA KEV, CSAF 2.0, CVE JSON 5 with Vulnrichment) into
small frozen records and fails with a file:line:column InputError on malformed input, so a
broken download never turns into a silent "no vulnerabilities".
"""
