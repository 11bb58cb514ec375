"""Accounts: first-run owner, login (rate-limited), sign-up, the account page, API tokens,
and the owner's list of people."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_not_required, user_passes_test
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.auth.views import LoginView
from django.db import models, transaction
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from editor.limits import MB, stored_bytes
from editor.models import Edit

from .access import AuthenticatedHttpRequest
from .forms import OwnerSetupForm, TokenForm
from .models import ApiToken
from .throttle import clear_login_failures, login_blocked, record_login_failure


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
        login(request, owner)
        return redirect("studio")
    return render(request, "accounts/setup.html", {"form": form})


@login_not_required
def login_view(request: HttpRequest) -> HttpResponseBase:
    if not get_user_model().objects.exists():
        return redirect("setup")
    username = request.POST.get("username", "") if request.method == "POST" else ""
    if username and login_blocked(request, username):
        context = {
            "form": AuthenticationForm(request),
            "refusal": _("Too many failed attempts. Try again in 15 minutes."),
            "signup_open": settings.GAITU_SIGNUP,
        }
        return render(request, "accounts/login.html", context, status=429)
    response = LoginView.as_view(
        template_name="accounts/login.html",
        redirect_authenticated_user=True,
        extra_context={"signup_open": settings.GAITU_SIGNUP},
    )(request)
    if username:
        if request.user.is_authenticated:
            clear_login_failures(request, username)
        else:
            record_login_failure(request, username)
    return response


@login_not_required
def signup(request: HttpRequest) -> HttpResponse:
    """Self sign-up, only when the owner opened it with GAITU_SIGNUP=open."""
    if not settings.GAITU_SIGNUP:
        raise Http404
    form: UserCreationForm[User] = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("studio")
    return render(request, "accounts/signup.html", {"form": form})


def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Usage today and this month, storage, and the person's API tokens."""
    context = {
        "usage": usage_of(request.user),
        "tokens": request.user.api_tokens.order_by("-created_at"),
        "token_form": TokenForm(),
        "new_token": request.session.pop("new_api_token", None),
        "daily_limit": settings.GAITU_DAILY_LIMIT,
        "storage": storage_of(request.user),
    }
    return render(request, "accounts/account.html", context)


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


@require_POST
def token_revoke(request: AuthenticatedHttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    token.delete()
    message = _("The token %(prefix)s… no longer works.") % {"prefix": token.prefix}
    messages.success(request, message)
    return redirect("account")


def _is_owner(user: User | AnonymousUser) -> bool:
    return user.is_active and user.is_superuser


@user_passes_test(_is_owner)
def people(request: HttpRequest) -> HttpResponse:
    """The owner adds people and turns accounts off; each person sees only their own edits."""
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
@user_passes_test(_is_owner)
def person_toggle(request: HttpRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(get_user_model(), pk=user_id)
    if person == request.user:
        messages.error(request, _("You cannot turn off your own account."))
    else:
        person.is_active = not person.is_active
        person.save(update_fields=["is_active"])
        if not person.is_active:
            ApiToken.objects.filter(user=person).delete()
    return redirect("people")
