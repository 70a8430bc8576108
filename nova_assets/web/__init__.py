"""The planners' web application: the REST API under /api/v1 and the Portuguese dashboard at /.

Thin FastAPI routes over nova_assets.lib.platform (the domain) and server-rendered Jinja2 pages."""
