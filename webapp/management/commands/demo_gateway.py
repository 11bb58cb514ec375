"""Run the built-in demo gateway on its own, as if it were a real one elsewhere.

Point Gaitu at it with GAITU_API_BASE=http://127.0.0.1:PORT and any GAITU_API_KEY.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from gateway.demo.server import DemoGateway


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        server = DemoGateway(
            host, port, models=settings.GAITU_MODELS, latency=settings.GAITU_DEMO_LATENCY
        )
        self.stdout.write(f"Demo gateway listening on {server.base_url}", ending="\n")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
