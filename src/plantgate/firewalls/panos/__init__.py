"""Palo Alto Networks PAN-OS: XML, set and brace syntaxes, applications and the security rulebase."""
