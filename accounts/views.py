"""Accounts: first-run owner, login (limited, with optional two-factor), sign-up, the account
page, API tokens, two-factor set-up, and the owner's list of people."""

from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, UserCreationForm
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.models import Device

from editor.limits import MB, stored_bytes
from editor.models import Edit
from webhooks.models import Webhook

from . import two_factor
from .access import AuthenticatedHttpRequest
from .forms import ConfirmIdentityForm, LoginCodeForm, OwnerSetupForm, SetupCodeForm, TokenForm
from .middleware import two_factor_not_required
from .models import ApiToken
from .throttle import Refusal, begin_login_attempt, begin_signup, remember_device


@login_not_required
def setup(request: HttpRequest) -> HttpResponse:
    """First run: whoever opens a fresh installation creates the owner account."""
    User = get_user_model()
    if User.objects.exists():
        return redirect("login")
    form = OwnerSetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if User.objects.select_for_update().exists():
                return redirect("login")
            owner = form.save(commit=False)
            owner.is_staff = owner.is_superuser = True
            owner.save()
        return _finish_login(request, owner, resolve_url("studio"))
    return render(request, "accounts/setup.html", {"form": form})


@login_not_required
@sensitive_post_parameters()
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    """Step one: the password. Every try is counted first (throttle.py) and none is checked
    while refused. An account with two-factor sign-in goes on to the code (login_code)."""
    if not get_user_model().objects.exists():
        return redirect("setup")
    next_url = _next_url(request)
    if request.user.is_authenticated:
        return redirect(next_url)
    form = AuthenticationForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST":
        attempt = begin_login_attempt(request, request.POST.get("username", ""))
        if isinstance(attempt, Refusal):
            return _login_page(request, AuthenticationForm(request), next_url, attempt)
        if form.is_valid():
            attempt.succeeded()
            user = form.get_user()
            if two_factor.is_on(user):
                two_factor.start_pending_login(request, user, next_url)
                return redirect("login_code")
            return _finish_login(request, user, next_url)
    return _login_page(request, form, next_url)


def _login_page(
    request: HttpRequest, form: AuthenticationForm, next_url: str, refusal: Refusal | None = None
) -> HttpResponse:
    context = {
        "form": form,
        "next": next_url,
        "refusal": refusal.message if refusal else None,
        "signup_open": settings.GAITU_SIGNUP,
    }
    return render(request, "accounts/login.html", context, status=429 if refusal else 200)


@login_not_required
@sensitive_post_parameters()
@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    """Step two: a code from the app or a recovery code. Wrong codes count like wrong
    passwords: six digits are guessable."""
    pending = two_factor.pending_login(request)
    if pending is None:
        two_factor.end_pending_login(request)
        return redirect("login")
    user, backend, next_url = pending
    form = LoginCodeForm(request.POST if request.method == "POST" else None)
    refusal = None
    if request.method == "POST" and form.is_valid():
        attempt = begin_login_attempt(request, user.get_username())
        if isinstance(attempt, Refusal):
            refusal, form = attempt, LoginCodeForm()
        elif device := two_factor.verify_code(user, form.cleaned_data["code"]):
            attempt.succeeded()
            two_factor.end_pending_login(request)
            user.backend = backend
            return _finish_login(request, user, next_url, device)
        else:
            form.add_error("code", _("That code is not right. Check the app and try again."))
    context = {"form": form, "refusal": refusal.message if refusal else None}
    return render(request, "accounts/login_code.html", context, status=429 if refusal else 200)


def _finish_login(
    request: HttpRequest, user: User, next_url: str, device: Device | None = None
) -> HttpResponse:
    """Log in (with the device that gave the second factor, if any), give the browser its
    device cookie, and go on: to next_url, or to setting up two-factor sign-in when this
    installation requires it and the account has none yet."""
    login(request, user)
    if device is not None:
        otp_login(request, device)
    if settings.GAITU_REQUIRE_2FA and device is None:
        response = redirect(f"{reverse('two_factor_setup')}?{urlencode({'next': next_url})}")
    else:
        response = redirect(next_url)
    remember_device(response, request, user.get_username())
    return response


def _next_url(request: HttpRequest) -> str:
    """Where to go after logging in: the asked-for page on this site, else the studio."""
    asked = request.POST.get("next", request.GET.get("next", ""))
    if url_has_allowed_host_and_scheme(
        asked, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return asked
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@login_not_required
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's login page is ours: one way in, with one set of limits and two-factor."""
    if request.user.is_authenticated:
        # Signed in but not staff (staff would not be sent here): our login page would send
        # them back to the admin, and the admin here again.
        raise PermissionDenied
    next_url = request.GET.get("next") or reverse("admin:index")
    return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")


@login_not_required
def signup(request: HttpRequest) -> HttpResponse:
    """Self sign-up, only when the owner opened it with GAITU_SIGNUP=open; a few forms an hour
    per address."""
    if not settings.GAITU_SIGNUP:
        raise Http404
    form: UserCreationForm[User] = UserCreationForm(
        request.POST if request.method == "POST" else None
    )
    if request.method == "POST":
        refusal = begin_signup(request)
        if refusal is not None:
            context = {"form": UserCreationForm(), "refusal": refusal.message}
            return render(request, "accounts/signup.html", context, status=429)
        if form.is_valid():
            user = form.save()
            user.backend = "django.contrib.auth.backends.ModelBackend"
            return _finish_login(request, user, resolve_url("studio"))
    return render(request, "accounts/signup.html", {"form": form})


@sensitive_post_parameters()
def password_change(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A wrong old password counts against the account like a wrong password at login."""
    form = PasswordChangeForm(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        attempt = begin_login_attempt(request, request.user.get_username())
        if isinstance(attempt, Refusal):
            context = {"form": PasswordChangeForm(request.user), "refusal": attempt.message}
            return render(request, "accounts/password_change.html", context, status=429)
        valid = form.is_valid()
        if not form.has_error("old_password", "password_incorrect"):
            attempt.succeeded()  # the old password was right, or not given
        if valid:
            form.save()
            update_session_auth_hash(request, form.user)
            messages.success(request, _("Your password is changed."))
            return redirect("account")
    return render(request, "accounts/password_change.html", {"form": form})


def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Usage today and this month, storage, two-factor sign-in, and the person's API tokens."""
    return _account_page(request)


def _account_page(
    request: AuthenticatedHttpRequest, refusal: Refusal | None = None
) -> HttpResponse:
    context = {
        "usage": usage_of(request.user),
        "tokens": request.user.api_tokens.order_by("-created_at"),
        "webhooks": webhooks_of(request.user),
        "token_form": TokenForm(),
        "new_token": request.session.pop("new_api_token", None),
        "daily_limit": settings.GAITU_DAILY_LIMIT,
        "storage": storage_of(request.user),
        "two_factor_on": two_factor.is_on(request.user),
        "recovery_codes_left": two_factor.recovery_codes_left(request.user),
        "two_factor_required": settings.GAITU_REQUIRE_2FA,
        "confirm_form": ConfirmIdentityForm(),
        "refusal": refusal.message if refusal else None,
    }
    return render(request, "accounts/account.html", context, status=429 if refusal else 200)


def storage_of(user: User) -> dict[str, int | None]:
    """The bytes of the person's stored pictures, and of their quota (None when there is none)
    with the share of it used, in percent (for the bar)."""
    used = stored_bytes(user)
    quota = settings.GAITU_STORAGE_QUOTA_MB * MB or None
    percent = min(100, used * 100 // quota) if quota else None
    return {"used": used, "quota": quota, "percent": percent}


def usage_of(user: User) -> list[dict]:
    now = timezone.localtime()
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    periods = [(_("Today"), day), (_("This month"), day.replace(day=1))]
    tokens = models.Sum(Cast(KT("usage__total_tokens"), models.BigIntegerField()))
    rows = []
    for label, since in periods:
        figures = Edit.objects.filter(owner=user, created_at__gte=since).aggregate(
            edits=models.Count("pk"),
            succeeded=models.Count("pk", filter=models.Q(status=Edit.Status.SUCCEEDED)),
            tokens=tokens,
        )
        rows.append({"label": label, **figures, "tokens": figures["tokens"] or 0})
    return rows


@require_POST
def token_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if form.is_valid():
        _token, raw = ApiToken.issue(request.user, name=form.cleaned_data["name"])
        # Shown once, on the next page, then forgotten: only its hash is kept.
        request.session["new_api_token"] = raw
    return redirect("account")


def webhooks_of(user: User) -> list[Webhook]:
    """The webhooks of the person's tokens, each with how its newest delivery went."""
    mine = Webhook.objects.filter(token__user=user).select_related("token")
    return list(mine.with_last_delivery().order_by("token__created_at", "created_at"))


@require_POST
def webhook_delete(request: AuthenticatedHttpRequest, webhook_id: int) -> HttpResponse:
    webhook = get_object_or_404(Webhook, pk=webhook_id, token__user=request.user)
    webhook.delete()
    messages.success(request, _("Nothing more is sent to %(url)s.") % {"url": webhook.url})
    return redirect("account")


@require_POST
def token_revoke(request: AuthenticatedHttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    token.delete()
    message = _("The token %(prefix)s… no longer works.") % {"prefix": token.prefix}
    messages.success(request, message)
    return redirect("account")


def _only_the_owner(user: User | AnonymousUser) -> None:
    """Someone else signed in gets the 403 page, which says why. (A redirect to the login page
    would send them straight back: they are logged in, and the login page goes on to `next`.)"""
    if not (user.is_active and user.is_superuser):
        raise PermissionDenied


def people(request: HttpRequest) -> HttpResponse:
    """The owner adds people and turns accounts off; each person sees only their own edits."""
    _only_the_owner(request.user)
    form: UserCreationForm[User] = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = form.save()
        messages.success(request, _("%(name)s can now log in.") % {"name": person.get_username()})
        return redirect("people")
    since = timezone.now() - timedelta(days=30)
    recent_edits = models.Count("edits", filter=models.Q(edits__created_at__gte=since))
    everyone = get_user_model().objects.annotate(recent_edits=recent_edits).order_by("username")
    return render(request, "accounts/people.html", {"form": form, "people": everyone})


@require_POST
def person_toggle(request: HttpRequest, user_id: int) -> HttpResponse:
    _only_the_owner(request.user)
    person = get_object_or_404(get_user_model(), pk=user_id)
    if person == request.user:
        messages.error(request, _("You cannot turn off your own account."))
    else:
        person.is_active = not person.is_active
        person.save(update_fields=["is_active"])
        if not person.is_active:
            ApiToken.objects.filter(user=person).delete()
    return redirect("people")


# --- Two-factor sign-in ---------------------------------------------------------------------


@two_factor_not_required
@never_cache
@sensitive_post_parameters()
def two_factor_setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the secret), then confirm with
    a code. Reachable before two-factor is set up when the installation requires it."""
    secret = two_factor.setup_secret(request)
    form = SetupCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        refusal = _check_password(request, form.cleaned_data["password"])
        if refusal is not None:
            form.add_error("password", refusal)
        elif device := two_factor.confirm_setup(request, request.user, form.cleaned_data["code"]):
            otp_login(request, device)  # this session has now given the second factor
            next_url = _next_url(request)
            return redirect(f"{reverse('two_factor_codes')}?{urlencode({'next': next_url})}")
        else:
            form.add_error("code", _("That code does not match. Check the app and try again."))
    context = {
        "form": form,
        "picture": two_factor.setup_picture(request.user, secret),
        "next": _next_url(request),
        "already_on": two_factor.is_on(request.user),
        "two_factor_required": settings.GAITU_REQUIRE_2FA,
    }
    return render(request, "accounts/two_factor_setup.html", context)


@two_factor_not_required
@never_cache
def two_factor_codes(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The new recovery codes, shown once."""
    codes = request.session.pop(two_factor.NEW_CODES_KEY, None)
    if not codes:
        return redirect("account")
    return render(
        request, "accounts/two_factor_codes.html", {"codes": codes, "next": _next_url(request)}
    )


@require_POST
@sensitive_post_parameters()
def two_factor_new_codes(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Replace the recovery codes (the old ones stop working); needs the password or a code."""
    refused = _confirm_identity(request)
    if refused is not None:
        return refused
    request.session[two_factor.NEW_CODES_KEY] = two_factor.new_recovery_codes(request.user)
    return redirect("two_factor_codes")


@require_POST
@sensitive_post_parameters()
def two_factor_off(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Turn two-factor sign-in off; needs the password or a code. Where it is required, the
    person is sent to set it up again at once (a new phone)."""
    refused = _confirm_identity(request)
    if refused is not None:
        return refused
    two_factor.turn_off(request.user)
    messages.success(request, _("Two-factor sign-in is off."))
    return redirect("two_factor_setup" if settings.GAITU_REQUIRE_2FA else "account")


def _check_password(request: AuthenticatedHttpRequest, password: str) -> str | None:
    """None when it is the person's password; else why not. Tries count like logins."""
    attempt = begin_login_attempt(request, request.user.get_username())
    if isinstance(attempt, Refusal):
        return attempt.message
    if not request.user.check_password(password):
        return _("That is not your password.")
    attempt.succeeded()
    return None


def _confirm_identity(request: AuthenticatedHttpRequest) -> HttpResponse | None:
    """None when the form holds the person's password or a current code; else the page to
    answer with. Tries count against the account like logins."""
    if not two_factor.is_on(request.user):
        return redirect("account")
    form = ConfirmIdentityForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter your password or a code from your app."))
        return redirect("account")
    attempt = begin_login_attempt(request, request.user.get_username())
    if isinstance(attempt, Refusal):
        return _account_page(request, attempt)
    secret = form.cleaned_data["secret"]
    code = two_factor.normalize_code(secret)
    right = (two_factor.looks_like_code(code) and two_factor.verify_code(request.user, code)) or (
        request.user.check_password(secret)
    )
    if not right:
        messages.error(request, _("That is neither your password nor a current code."))
        return redirect("account")
    attempt.succeeded()
    return None
