"""What a caller tells the gateway package: where the gateway is and how to talk to it.

Nothing here reads the environment or Django's settings; the app builds these from its own.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GatewayConfig:
    base_url: str
    api_key: str = field(repr=False)  # never in a repr, so never in a log line
    transport: str = "chat"  # which API the gateway is spoken to through (gateway.TRANSPORTS)
    name: str = ""  # the provider's name, as people know it ("云雾"); for messages only
    # How Gemini's own API is given the key: the "x-goog-api-key" header, or "?key=" in the
    # query, as some relays want it.
    gemini_key_in: str = "header"
    stream: bool = True
    max_tokens: int | None = None
    image_detail: str = "high"
    connect_timeout: float = 15.0
    read_timeout: float = 120.0
    total_timeout: float = 600.0
    max_attempts: int = 3
    extra_body: dict = field(default_factory=dict)

    @property
    def api_root(self) -> str:
        return api_root(self.base_url)

    @property
    def completions_url(self) -> str:
        return f"{self.api_root}/chat/completions"

    @property
    def gemini_root(self) -> str:
        """Gemini's /v1beta root on the same host, whether the base named /v1, /v1beta or none."""
        root = self.base_url.strip().rstrip("/")
        for suffix in ("/v1beta", "/v1"):
            if root.endswith(suffix):
                root = root[: -len(suffix)]
                break
        return f"{root}/v1beta"


def api_root(base_url: str) -> str:
    """The gateway's /v1 root, whether the base was given with or without it."""
    root = base_url.strip().rstrip("/")
    return root if root.endswith("/v1") else f"{root}/v1"
