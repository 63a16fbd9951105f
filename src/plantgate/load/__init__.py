"""Loading a treaty from YAML with source positions, so every error names file:line:column."""

from plantgate.load.site import Site, load_site

__all__ = ["Site", "load_site"]
