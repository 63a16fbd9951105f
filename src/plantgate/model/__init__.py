"""The treaty model: one pydantic module per concept; the JSON Schema is generated from it."""

from plantgate.model.site import SiteInfo, Treaty

__all__ = ["SiteInfo", "Treaty"]
