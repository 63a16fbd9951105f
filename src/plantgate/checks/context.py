"""What a check may read: the site, the date the run is judged at, and shared derived data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from plantgate.load import Site
from plantgate.model import Treaty


@dataclass
class CheckContext:
    site: Site
    as_of: dt.date = field(default_factory=dt.date.today)

    @property
    def treaty(self) -> Treaty:
        return self.site.treaty
