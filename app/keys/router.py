"""The API keys API: list, make and revoke keys (`admin`)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.keys.repository import ApiKeyDep, ApiKeyRepositoryDep
from app.keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPage, ApiKeyQuery, ApiKeyRead
from app.kit.errors import problem_responses
from app.kit.etag import location_doc
from app.kit.pagination import LIST_RESPONSES, PagerDep
from app.state import request_state

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.get("", responses=LIST_RESPONSES)
async def list_api_keys(
    query: Annotated[ApiKeyQuery, Query()], keys: ApiKeyRepositoryDep, pager: PagerDep
) -> ApiKeyPage:
    """List API keys, revoked ones included; never their secrets."""
    return pager.answer(ApiKeyPage, await keys.page(query), query)


@router.post(
    "",
    status_code=201,
    responses={201: {"headers": {"Location": location_doc(router.prefix)}}},
)
async def create_api_key(
    data: ApiKeyCreate, keys: ApiKeyRepositoryDep, response: Response
) -> ApiKeyCreated:
    """Make an API key; its secret, `key`, is in this answer and nowhere else, ever."""
    api_key, secret = await keys.create(data.name, data.scope, data.expires_at)
    response.headers["Location"] = f"/api-keys/{api_key.id}"
    return ApiKeyCreated(**ApiKeyRead.model_validate(api_key).model_dump(), key=secret)


@router.delete(
    "/{key_id}", status_code=204, response_class=Response, responses=problem_responses(404)
)
async def revoke_api_key(api_key: ApiKeyDep, keys: ApiKeyRepositoryDep, request: Request) -> None:
    """Revoke an API key: refused from now on by this server, and within a second by every
    other process."""
    await keys.revoke(api_key)
    request_state(request).key_cache.revoke(api_key.id)
