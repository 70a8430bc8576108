"""The planners' platform: users and roles, tokens, audit, alert actions, overrides and the read
models over gold that the API and the dashboard serve. Plain typed Python: no web framework here."""
