"""The owner's providers: the list (the environment's gateway first, read-only), a provider
added or changed (its key typed, never shown), the order each model's providers are asked in,
and their health with a test request. Every action is a plain form POST that comes back to its
page; "Ask the provider" is htmx, and without scripts draws the whole form again."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import owner_only
from editor.failures import failure_message
from gateway.chat.client import list_models
from gateway.config import GatewayConfig
from gateway.transports import NAMES as TRANSPORT_NAMES
from studio.http import AuthenticatedHtmxRequest
from webapp.forms import MoveForm

from . import health, order
from .forms import (
    AskModelsForm,
    ModelForm,
    ProviderForm,
    RouteStepForm,
    with_listing,
)
from .models import Provider
from .routing import environment_name
from .secrets import KeyUnreadable


def environment_row() -> dict[str, object]:
    """The environment's gateway as the list shows it: set in the environment, not here. Read
    from settings alone: asking for its configuration would start the demo gateway."""
    transport = settings.GAITU_TRANSPORT
    return {
        "name": environment_name(),
        "host": None if settings.GAITU_DEMO else environment_name(),
        "transport": Provider.Transport(transport).label
        if transport in TRANSPORT_NAMES
        else Provider.Transport.AUTO.label,
        "per_model": len(settings.GAITU_MODEL_TRANSPORTS),
        "models": settings.GAITU_MODELS,
    }


@owner_only
@require_GET
def provider_list(request: AuthenticatedHtmxRequest) -> HttpResponse:
    context = {"environment": environment_row(), "providers": list(Provider.objects.all())}
    return render(request, "providers/list.html", context)


@owner_only
@sensitive_post_parameters("key")
@require_http_methods(["GET", "POST"])
def provider_add(request: AuthenticatedHtmxRequest) -> HttpResponse:
    form = ProviderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        provider = form.save(commit=False)
        provider.position = order.next_provider_position()
        provider.save()
        messages.success(request, _("Added “%(name)s”.") % {"name": provider.name})
        return redirect("providers")
    return _form_page(request, form, None)


@owner_only
@sensitive_post_parameters("key")
@require_http_methods(["GET", "POST"])
def provider_edit(request: AuthenticatedHtmxRequest, provider_id: int) -> HttpResponse:
    provider = get_object_or_404(Provider, pk=provider_id)
    form = ProviderForm(request.POST or None, instance=provider)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved “%(name)s”.") % {"name": provider.name})
        return redirect("providers")
    return _form_page(request, form, provider)


def _form_page(
    request: AuthenticatedHtmxRequest,
    form: ProviderForm,
    provider: Provider | None,
    asked: dict[str, object] | None = None,
) -> HttpResponse:
    context = {"form": form, "provider": provider, "asked": asked}
    status = 400 if form.is_bound and form.errors and asked is None else 200
    return render(request, "providers/edit.html", context, status=status)


@owner_only
@sensitive_post_parameters("key")
@require_POST
def ask_models(request: AuthenticatedHtmxRequest, provider_id: int | None = None) -> HttpResponse:
    """What the provider says it serves, asked with the link and key typed in the form (on a
    change with no key typed, the stored one), offered as boxes to tick. The key comes in the
    form's body, never in a link. htmx: the models part of the form; else the whole form."""
    provider = get_object_or_404(Provider, pk=provider_id) if provider_id else None
    asking = AskModelsForm(request.POST)
    listed: list[str] = []
    asked: dict[str, object]
    if not asking.is_valid():
        asked = {
            "problem": _("Give the base URL first: a link that starts with http:// or https://.")
        }
    elif not (key := asking.cleaned_data["key"] or _stored_key(provider)):
        asked = {"problem": _("Type the API key first: the provider is asked with it.")}
    else:
        url = asking.cleaned_data["base_url"]
        listed = list_models(GatewayConfig(base_url=url, api_key=key), timeout=5.0)
        if listed:
            asked = {"count": len(listed)}
        else:
            asked = {
                "problem": _(
                    "No models came back from %(url)s: it could not be reached, did not take "
                    "the key, or does not list its models. Type their names instead."
                )
                % {"url": url}
            }
    data = with_listing(request.POST, listed) if listed else request.POST
    form = ProviderForm(data, instance=provider)
    if request.htmx:
        context = {"form": form, "provider": provider, "asked": asked}
        return render(request, "providers/edit.html#models", context)
    return _form_page(request, form, provider, asked)


def _stored_key(provider: Provider | None) -> str:
    if provider is None or not provider.encrypted_key:
        return ""
    try:
        return provider.key()
    except KeyUnreadable:
        return ""


@owner_only
@require_POST
def provider_move(request: AuthenticatedHtmxRequest, provider_id: int) -> HttpResponse:
    provider = get_object_or_404(Provider, pk=provider_id)
    form = MoveForm(request.POST)
    if form.is_valid():
        order.move_provider(provider, up=form.cleaned_data["direction"] == "up")
    return redirect("providers")


@owner_only
@require_http_methods(["GET", "POST"])
def provider_delete(request: AuthenticatedHtmxRequest, provider_id: int) -> HttpResponse:
    """Asks first, on a page of its own, so that it asks without scripts too."""
    provider = get_object_or_404(Provider, pk=provider_id)
    if request.method == "POST":
        provider.delete()
        messages.success(request, _("Deleted “%(name)s”.") % {"name": provider.name})
        return redirect("providers")
    in_orders = list(provider.routes.order_by("model").values_list("model", flat=True))
    context = {"provider": provider, "in_orders": in_orders}
    return render(request, "providers/delete.html", context)


# --- Each model's order ---------------------------------------------------------------------


@owner_only
@require_GET
def model_order(request: AuthenticatedHtmxRequest) -> HttpResponse:
    providers = list(Provider.objects.all())
    orders = []
    for each in order.model_orders(providers):
        present = {step.provider.pk if step.provider else None for step in each.steps}
        addable = [p for p in providers if p.pk not in present]
        orders.append(
            {"order": each, "addable": addable, "can_add_environment": None not in present}
        )
    context = {"orders": orders, "environment": environment_name(), "demo": settings.GAITU_DEMO}
    return render(request, "providers/order.html", context)


@owner_only
@require_POST
def model_order_change(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """Add, move or remove one provider in a model's order (its first change writes the
    default order down, then changes it)."""
    form = RouteStepForm(request.POST)
    if form.is_valid():
        model, provider = form.cleaned_data["model"], form.chosen_provider()
        action = form.cleaned_data["action"]
        if action == "add" and not order.add_step(model, provider):
            messages.info(request, _("It was already in the order."))
        elif action in ("up", "down"):
            order.move_step(model, provider, up=action == "up")
        elif action == "remove":
            order.remove_step(model, provider)
    return redirect(f"{_order_url()}#order-{_anchor(request.POST.get('model', ''))}")


@owner_only
@require_POST
def model_order_reset(request: AuthenticatedHtmxRequest) -> HttpResponse:
    form = ModelForm(request.POST)
    if form.is_valid():
        order.reset(form.cleaned_data["model"])
        messages.success(
            request,
            _("“%(model)s” follows the default order again.")
            % {"model": form.cleaned_data["model"]},
        )
    return redirect(f"{_order_url()}#order-{_anchor(request.POST.get('model', ''))}")


def _order_url() -> str:
    return reverse("model_order")


def _anchor(model: str) -> str:
    return slugify(model)  # as the page names the model's section (|slugify)


# --- Health ---------------------------------------------------------------------------------


@owner_only
@require_GET
def provider_health(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """The last day of each provider. Calls older than that are forgotten here, as the page
    is drawn (and by `manage.py prune_provider_calls`)."""
    health.prune()
    figures = health.health_by_provider()
    rows = [HealthRow(None, environment_name(), figures.get(None))]
    rows += [HealthRow(p, p.name, figures.get(p.pk)) for p in Provider.objects.all()]
    return render(request, "providers/health.html", {"rows": rows})


@dataclass(frozen=True)
class HealthRow:
    provider: Provider | None  # None: the environment's gateway
    name: str
    figures: health.Health | None  # None: no call in the last day

    @property
    def failure(self) -> dict[str, object] | None:
        """The last failure: its code, its sentence, the provider's words (trimmed), when."""
        failure = self.figures.last_failure if self.figures else None
        if failure is None:
            return None
        return {
            "code": failure.code,
            "sentence": failure_message(failure.code),
            "detail": health.trimmed(failure.detail),
            "at": failure.at,
        }


@owner_only
@require_POST
def provider_test(
    request: AuthenticatedHtmxRequest, provider_id: int | None = None
) -> HttpResponse:
    """A small real request through one provider, its outcome said on the health page."""
    provider = get_object_or_404(Provider, pk=provider_id) if provider_id else None
    result = health.try_provider(provider)
    name = provider.name if provider else environment_name()
    if result.ok:
        messages.success(
            request,
            _("%(name)s: ok in %(seconds)s s.")
            % {"name": name, "seconds": f"{result.seconds:.1f}"},
        )
    else:
        messages.error(
            request, _("%(name)s: %(outcome)s") % {"name": name, "outcome": result.sentence}
        )
    return redirect("provider_health")
