"""The backup console: GET /console answers the page, GET /console/<file> its scripts and styles.

The files live beside this module (``static/``) and ship with the app; the page loads
nothing from anywhere else.
"""

from pathlib import Path
from urllib.parse import quote, urlsplit

import azure.functions as func

STATIC = Path(__file__).resolve().parent / "static"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The page runs only its own files: no inline script, nothing from another origin.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def _answer(status: int, body: bytes, content_type: str) -> func.HttpResponse:
    return func.HttpResponse(
        body,
        status_code=status,
        headers={
            "Content-Type": content_type,
            "Content-Security-Policy": POLICY,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        },
    )


def _base_path(url: str, asset: str) -> str:
    """The console's own path ending in '/', whatever the route prefix (``/console/``)."""
    path = urlsplit(url).path
    if asset and path.endswith(asset):
        path = path[: -len(asset)]
    return path if path.endswith("/") else path + "/"


def main(req: func.HttpRequest) -> func.HttpResponse:
    asset = (req.route_params.get("asset") or "").strip("/")
    name = asset or "index.html"
    files = {path.name: path for path in STATIC.iterdir() if path.suffix in TYPES}
    path = files.get(name)  # only the files that are there: no path is ever joined
    if path is None:
        text = f"There is no console file '{name[:100]}'. Open /console for the console."
        return _answer(404, text.encode(), "text/plain; charset=utf-8")
    body = path.read_bytes()
    if name == "index.html":
        # Absolute asset paths, so /console and /console/ load the same files.
        base = _base_path(req.url, asset)
        api = base[: -len("console/")] + "console-api/" if base.endswith("console/") else base
        body = body.replace(b"{{BASE}}", quote(base).encode()).replace(
            b"{{API}}", quote(api).encode()
        )
    return _answer(200, body, TYPES[path.suffix])
