"""Whether an address may be a webhook: a web link Gaitu would send to, by the rules its
downloads follow (gateway/fetch.py); checked again at every delivery."""

from django import forms
from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gateway.fetch import FetchError, check_link

# Why an address is refused, by the rule that refused it (gateway.failures.LINK_REFUSALS).
REFUSALS: dict[str, Promise] = {
    "scheme_not_allowed": _("A webhook URL starts with http:// or https://."),
    "credentials_in_link": _("A webhook URL may not carry a user name or password."),
    "invalid_link": _("That is not a URL Gaitu can send to."),
    "loopback_address": _(
        "That URL points to the server Gaitu runs on (a loopback address), which Gaitu does "
        "not send webhooks to."
    ),
    "private_address": _(
        "That URL points to a private network address, which Gaitu does not send webhooks to."
    ),
    "link_local_address": _(
        "That URL points to a link-local address (such as a cloud server's metadata service), "
        "which Gaitu does not send webhooks to."
    ),
    "unspecified_address": _(
        "That URL points to the unspecified address 0.0.0.0 or ::, which Gaitu does not send "
        "webhooks to."
    ),
    "multicast_address": _(
        "That URL points to a multicast address, which Gaitu does not send webhooks to."
    ),
    "reserved_address": _(
        "That URL points to a reserved address that is not on the internet, which Gaitu does "
        "not send webhooks to."
    ),
}
ADDRESS_RULES = frozenset(REFUSALS) - {"scheme_not_allowed", "credentials_in_link", "invalid_link"}
ALLOW_HINT = _("Whoever runs Gaitu can allow that host (GAITU_FETCH_ALLOW_HOSTS).")
UNRESOLVED = _("Gaitu cannot find the host of that URL. Check how it is spelt.")


class WebhookForm(forms.Form):
    url = forms.URLField(label=_("URL"), max_length=2000, assume_scheme="https")

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        try:
            check_link(url, allow_hosts=settings.GAITU_FETCH_ALLOW_HOSTS)
        except FetchError as exc:
            if exc.code != "link_blocked":
                raise forms.ValidationError(UNRESOLVED, code="unresolved_host") from None
            message = str(REFUSALS[exc.refusal])
            if exc.refusal in ADDRESS_RULES:
                message = f"{message} {ALLOW_HINT}"
            raise forms.ValidationError(message, code=exc.refusal) from None
        return url
