"""The FastAPI application: API + dashboard, security headers, errors without internals, CORS closed
unless origins are configured, OpenAPI docs at /docs served from the installed swagger-ui-py."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
import plotly
import swagger_ui
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from nova_assets.lib.platform import users
from nova_assets.lib.platform.cache import AlertPages
from nova_assets.lib.platform.database import open_pool
from nova_assets.lib.platform.errors import Forbidden, Invalid, NotFound, PlatformError, Throttled, Unauthorized
from nova_assets.lib.platform.sessions import TokenService
from nova_assets.web import api, pages
from nova_assets.web.config import WebConfig
from nova_assets.web.data_label import DataLabel

log = logging.getLogger("nova.web")
HERE = Path(__file__).parent
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
SWAGGER_DIR = Path(swagger_ui.__file__).parent / "static"  # Swagger UI 5 (reads OpenAPI 3.1)
STATUS = {Unauthorized: 401, Forbidden: 403, NotFound: 404, Invalid: 400, Throttled: 429}
# Pages and API: scripts and styles from this server only (plotly.js sets inline styles on its SVG).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
# Swagger UI's page starts itself with an inline script.
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")


def create_app(config: WebConfig) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A request holds its connection from a dependency run in one worker thread to its release in
        # another; with fewer connections than threads, threads waiting for a connection could take
        # every thread a release needs. So there are exactly as many threads as connections.
        anyio.to_thread.current_default_thread_limiter().total_tokens = config.pool_size
        app.state.pool = open_pool(config.api_database_url, max_size=config.pool_size)
        await anyio.to_thread.run_sync(users.stand_in_hash)  # an unknown name's first sign-in is not slower
        label_reader = app.state.data_label.keep_fresh(app.state.pool)
        try:
            yield
        finally:
            label_reader.set()
            app.state.pool.close()

    app = FastAPI(
        title="Nova Corrente API",
        version=config.version,
        description="Gold layer of the Nova Corrente cycle: KPIs, alerts, forecasts, materials, overrides.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.tokens = TokenService(config.jwt_secret, config.token_ttl)
    app.state.alert_pages = AlertPages()
    app.state.data_label = DataLabel(config.landing_dir, config.lake_dir)

    if config.cors_origins:  # closed by default: no CORS headers at all
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-CSRF-Token"],
        )

    @app.middleware("http")
    async def security_headers(request: Request, call_next) -> Response:
        response = await call_next(request)
        path = request.url.path
        response.headers.setdefault("Content-Security-Policy", DOCS_CSP if path.startswith("/docs") else CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if config.secure_cookies:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if not path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    def wants_html(request: Request) -> bool:
        return not request.url.path.startswith("/api/") and request.url.path not in {"/health", "/openapi.json"}

    @app.exception_handler(PlatformError)
    async def platform_error(request: Request, exc: PlatformError) -> Response:
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        if wants_html(request):
            if status == 401:
                response = RedirectResponse("/entrar", status_code=303)
                response.delete_cookie(pages.SESSION_COOKIE, path="/")
                return response
            return pages.error_page(request, status, str(exc))
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "erro"
        if wants_html(request):
            return pages.error_page(
                request, exc.status_code, "página não encontrada" if exc.status_code == 404 else detail
            )
        return JSONResponse({"detail": detail}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        if wants_html(request):
            return pages.error_page(request, 422, "dados inválidos: " + "; ".join(p["msg"] for p in problems))
        return JSONResponse({"detail": problems}, status_code=422)

    @app.exception_handler(PoolTimeout)
    async def busy(request: Request, exc: PoolTimeout) -> Response:
        log.warning("no database connection free for %s %s", request.method, request.url.path)
        if wants_html(request):
            return pages.error_page(request, 503, "servidor ocupado; tente de novo em instantes")
        return JSONResponse({"detail": "servidor ocupado"}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if wants_html(request):
            return pages.error_page(request, 500, "erro interno; o ocorrido foi registrado no servidor")
        return JSONResponse({"detail": "erro interno"}, status_code=500)

    @app.get("/health", include_in_schema=True, tags=["health"])
    def health(request: Request) -> dict:
        """Liveness: the process answers and the database is reachable (details at /api/v1/health)."""
        report = api.health_report(request)
        return {"status": "ok" if report.database else "degraded", "database": report.database}

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Nova Corrente API",
            swagger_js_url="/static/vendor/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui.css",
            swagger_favicon_url="/static/vendor/favicon-32x32.png",
        )

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    app.mount("/static/vendor", StaticFiles(directory=SWAGGER_DIR), name="swagger")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    return app
