"""Renderings of findings for people (terminal) and for tools (JSON, SARIF, CEF)."""
