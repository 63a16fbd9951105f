"""Route modules: auth (login, sessions), pages (site views), changes (the change workflow), api (JSON)."""
