"""The images transport: OpenAI's images API (/v1/images/edits and /v1/images/generations)."""

from .client import ImagesTransport

__all__ = ["ImagesTransport"]
