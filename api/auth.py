"""The API's one way in: an API token as a bearer token. Never a session cookie, so no request
can be forged from another site, and none of the API needs CSRF protection."""

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja.security import HttpBearer

from accounts.access import bearer_token
from accounts.models import ApiToken


class TokenRequest(HttpRequest):
    """A request TokenAuth let in: its user is the token's. For annotations."""

    user: User
    auth: User  # where ninja puts what the auth class returned
    api_token: ApiToken  # the token it came with (its webhooks, the edits it starts)


class TokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest) -> User | None:
        # The header is read as the picture views read it, so both take the same tokens.
        token = bearer_token(request)
        return self.authenticate(request, token) if token else None

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = ApiToken.find(token)
        if found is None:
            return None
        request.user = found.user  # what the views, the services and the logs go by
        request.api_token = found  # type: ignore[attr-defined]  # a TokenRequest from here
        return found.user
