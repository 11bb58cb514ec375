"""The owner's orders: the providers' own (the list's), and each model's list of providers to
ask in turn (ModelRoute rows; none: the default that providers.routing.routes_for follows)."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from .models import ModelRoute, Provider


def next_provider_position() -> int:
    highest = Provider.objects.aggregate(highest=Max("position"))["highest"]
    return 0 if highest is None else highest + 1


def _swap(items: list, index: int, up: bool) -> bool:
    other = index - 1 if up else index + 1
    if not 0 <= other < len(items):
        return False
    items[index], items[other] = items[other], items[index]
    return True


@transaction.atomic
def move_provider(provider: Provider, *, up: bool) -> None:
    """One place up or down; every position written again, so equal ones (0, the default)
    become an order."""
    providers = list(Provider.objects.select_for_update())
    index = next(i for i, p in enumerate(providers) if p.pk == provider.pk)
    if _swap(providers, index, up):
        for position, each in enumerate(providers):
            each.position = position
        Provider.objects.bulk_update(providers, ["position"])


def default_order(model: str, providers: list[Provider]) -> list[Provider | None]:
    """The order routes_for follows for a model with none set (None: the environment's
    gateway): the environment first, unless it is only the built-in demo and a provider serves
    the model; then each enabled provider listing the model, in the providers' order."""
    serving = [p for p in providers if p.enabled and p.serves(model)]
    if serving and settings.GAITU_DEMO:
        return list(serving)
    return [None, *serving]


@dataclass(frozen=True)
class Step:
    provider: Provider | None  # None: the environment's gateway
    route: ModelRoute | None  # None while the model follows the default


@dataclass(frozen=True)
class ModelOrder:
    model: str
    steps: list[Step]
    is_default: bool


def model_orders(providers: list[Provider]) -> list[ModelOrder]:
    """Every model the owner may order (the configured ones, the providers', and any with an
    order set), each with its order as set or by default. One query for all the orders."""
    routes: dict[str, list[ModelRoute]] = {}
    by_pk = {p.pk: p for p in providers}
    for route in ModelRoute.objects.order_by("model", "position", "pk"):
        routes.setdefault(route.model, []).append(route)
    names = list(
        dict.fromkeys(
            [*settings.GAITU_MODELS, *(n for p in providers for n in p.model_names), *routes]
        )
    )
    orders = []
    for name in names:
        if name in routes:
            steps = [
                Step(by_pk.get(route.provider_id) if route.provider_id else None, route)
                for route in routes[name]
            ]
            orders.append(ModelOrder(name, steps, is_default=False))
        else:
            steps = [Step(p, None) for p in default_order(name, providers)]
            orders.append(ModelOrder(name, steps, is_default=True))
    return orders


def _set_order(model: str) -> list[ModelRoute]:
    """The model's steps, written down from the default first when it had none: a change to
    an order starts from the order the owner saw."""
    steps = list(ModelRoute.objects.select_for_update().filter(model=model).order_by("position"))
    if steps:
        return steps
    for position, provider in enumerate(default_order(model, list(Provider.objects.all()))):
        steps.append(ModelRoute.objects.create(model=model, provider=provider, position=position))
    return steps


def _renumber(steps: list[ModelRoute]) -> None:
    for position, step in enumerate(steps):
        step.position = position
    ModelRoute.objects.bulk_update(steps, ["position"])


@transaction.atomic
def add_step(model: str, provider: Provider | None) -> bool:
    """The provider last in the model's order; False when it was already in it."""
    steps = _set_order(model)
    if any(step.provider_id == (provider.pk if provider else None) for step in steps):
        return False
    ModelRoute.objects.create(model=model, provider=provider, position=len(steps))
    return True


@transaction.atomic
def move_step(model: str, provider: Provider | None, *, up: bool) -> None:
    steps = _set_order(model)
    wanted = provider.pk if provider else None
    index = next((i for i, s in enumerate(steps) if s.provider_id == wanted), None)
    if index is not None and _swap(steps, index, up):
        _renumber(steps)


@transaction.atomic
def remove_step(model: str, provider: Provider | None) -> None:
    """Out of the model's order. The last one out leaves the model to the default again."""
    steps = _set_order(model)
    wanted = provider.pk if provider else None
    kept = [step for step in steps if step.provider_id != wanted]
    ModelRoute.objects.filter(pk__in=[s.pk for s in steps if s.provider_id == wanted]).delete()
    _renumber(kept)


def reset(model: str) -> int:
    """Back to the default order; how many steps went."""
    return ModelRoute.objects.filter(model=model).delete()[0]
