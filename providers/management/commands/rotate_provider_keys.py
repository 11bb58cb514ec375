"""Encrypt every stored provider key again with the first encryption key (providers.secrets):
run after putting a new key first in GAITU_PROVIDER_KEYS (or changing SECRET_KEY), before the
old one is dropped. A key none of them can decrypt is named, left as it is, and the command
ends in failure, so that a script running it notices."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from providers.models import Provider
from providers.secrets import KeyUnreadable, rotated


class Command(BaseCommand):
    help = "Re-encrypt every provider's key with the first encryption key."

    def handle(self, *args: Any, **options: Any) -> None:
        done = 0
        unreadable: list[str] = []
        with transaction.atomic():
            for provider in Provider.objects.select_for_update().order_by("name"):
                try:
                    provider.encrypted_key = rotated(provider.encrypted_key)
                except KeyUnreadable:
                    unreadable.append(provider.name)
                    continue
                provider.save(update_fields=["encrypted_key"])
                done += 1
        self.stdout.write(f"Re-encrypted {done} provider key{'' if done == 1 else 's'}.")
        if unreadable:
            raise CommandError(
                "No encryption key decrypts the key of: "
                + ", ".join(unreadable)
                + ". Left as it is: type it again on /providers/, or put back the old "
                "encryption key."
            )
