"""What every REST handler of the emulator shares: services, auth, errors, pagination."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, NoReturn

import jwt
from aiohttp import web
from yarl import URL

from .faults import Faults
from .hooks import Dispatcher
from .payloads import Urls
from .repos import GitStorage
from .store import Repo, Store

API_PREFIX = "/api/v3"


@dataclass
class Services:
    store: Store
    storage: GitStorage
    dispatcher: Dispatcher
    faults: Faults
    web_user: str | None  # the login the HTML view acts as (a configured reviewer)


SERVICES = web.AppKey("atomesh_github", Services)


def services(request: web.Request) -> Services:
    return request.app[SERVICES]


def urls(request: web.Request) -> Urls:
    return Urls(f"{request.scheme}://{request.host}")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json", headers=headers or {})


DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """An error response in GitHub's JSON shape; the app's middleware turns it into the response.

    GitHub's bodies carry `message`, the `documentation_url` of the operation and, since 2023, the
    status as a string; a 422 adds `errors`: objects (`validation-error`) for "Validation Failed",
    plain strings (`validation-error-simple`) where the operation says so, as reviews do."""

    def __init__(self, status: int, message: str, errors: list[Any] | None = None, *, docs: str = DOCS) -> None:
        # str() names the reasons too: the HTML view shows it to the person whose action was refused.
        reasons = [
            e if isinstance(e, str) else e.get("message") or f"{e.get('field')} {e.get('code')}" for e in errors or []
        ]
        super().__init__(": ".join([message, *reasons]))
        self.status = status
        self.body: dict[str, Any] = {"message": message}
        if errors:
            self.body["errors"] = errors
        self.body |= {"documentation_url": docs, "status": str(status)}

    def response(self) -> web.Response:
        return json_response(self.body, status=self.status)


def fail(status: int, message: str, *, docs: str = DOCS) -> NoReturn:
    raise ApiError(status, message, docs=docs)


def validation_failed(
    resource: str, message: str | None = None, code: str = "custom", field: str | None = None, *, docs: str = DOCS
) -> NoReturn:
    """422 "Validation Failed" with one error object; GitHub leaves `message` out of the
    `missing_field`, `invalid` and `already_exists` errors it explains by code and field alone."""
    error: dict[str, Any] = {"resource": resource, "code": code}
    if field:
        error["field"] = field
    if message:
        error["message"] = message
    raise ApiError(422, "Validation Failed", [error], docs=docs)


def unprocessable(message: str, *, docs: str = DOCS) -> NoReturn:
    """422 "Unprocessable Entity" with the reason as a plain string (`validation-error-simple`)."""
    raise ApiError(422, "Unprocessable Entity", [message], docs=docs)


def bearer(request: web.Request) -> str | None:
    """The credential in Authorization: `token X`, `Bearer X`, or Basic with the token as password or user."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme in ("token", "bearer"):
        return value.strip() or None
    if scheme == "basic":
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return password or user or None
    return None


def login(request: web.Request, *, required: bool = True) -> str | None:
    """The user the request acts as. A present but unknown token is always 401, as on GitHub."""
    store = services(request).store
    credential = bearer(request)
    if credential is None:
        if required:
            raise ApiError(401, "Requires authentication")
        return None
    token = store.tokens.get(credential)
    if token is None:
        raise ApiError(401, "Bad credentials")
    return token.login


def app_id_from_jwt(request: web.Request) -> int:
    """Verify a GitHub App JWT (RS256, `iss` = app id) against the app's registered public key."""
    store = services(request).store
    credential = bearer(request)
    if credential is None:
        raise ApiError(401, "A JSON web token could not be decoded")
    try:
        claims = jwt.decode(credential, options={"verify_signature": False})
        app = store.apps.get(int(claims["iss"]))
        if app is None:
            raise jwt.InvalidTokenError("unknown app")
        jwt.decode(credential, app.public_key_pem, algorithms=["RS256"])
    except (jwt.InvalidTokenError, KeyError, ValueError):
        raise ApiError(401, "A JSON web token could not be decoded") from None
    return app.id


def repo(request: web.Request, needed: str = "read") -> tuple[Repo, str | None]:
    """The repository named in the path, checked against the caller's permission (404 hides private repos)."""
    svc = services(request)
    who = login(request, required=needed != "read")
    found = svc.store.repo(f"{request.match_info['owner']}/{request.match_info['repo']}")
    if found is None or not svc.store.allows(found, who, "read"):
        raise ApiError(404, "Not Found")
    if not svc.store.allows(found, who, needed):
        raise ApiError(403, f"Must have {needed} access to repository.")
    return found, who


def signed_in(request: web.Request, needed: str = "read") -> tuple[Repo, str]:
    """`repo` for a request that acts as someone: an anonymous caller is 401 even where reading is
    public (after the 404 of a repository it may not see)."""
    found, who = repo(request, needed)
    if who is None:
        raise ApiError(401, "Requires authentication")
    return found, who


async def body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except json.JSONDecodeError:
        raise ApiError(400, "Problems parsing JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "Body should be a JSON object")
    return data


def paginate(request: web.Request, items: list[Any]) -> web.Response:
    """One page of `items` with GitHub's Link header (first/prev/next/last)."""
    try:
        per_page = max(1, min(100, int(request.query.get("per_page", "30"))))
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        raise ApiError(400, "per_page and page must be integers") from None
    last = max(1, (len(items) + per_page - 1) // per_page)
    chunk = items[(page - 1) * per_page : page * per_page]
    base = URL(f"{request.scheme}://{request.host}{request.path_qs}")

    def link(number: int, rel: str) -> str:
        return f'<{base.update_query(page=str(number), per_page=str(per_page))}>; rel="{rel}"'

    links = []
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links += [link(1, "first"), link(page - 1, "prev")]
    return json_response(chunk, headers={"Link": ", ".join(links)} if links else None)
