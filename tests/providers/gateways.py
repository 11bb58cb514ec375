"""A scripted gateway that also answers GET (the model list, /v1/models), on a real socket:
tests/support/scripted_gateway.py answers POSTs only."""

import json

from tests.support.scripted_gateway import Scripted, ScriptedGateway, _Handler


class _ListingHandler(_Handler):
    def do_GET(self) -> None:
        # Apart from `requests`, whose count picks the next scripted answer to a POST.
        self.server.listings.append({"path": self.path, "headers": dict(self.headers)})
        body = json.dumps({"data": [{"id": name} for name in self.server.listed]}).encode()
        self.send_response(self.server.list_status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


class ListingGateway(ScriptedGateway):
    """Lists `listed` as its models (with list_status), and answers POSTs as scripted."""

    def __init__(self, *responses: Scripted, listed: list[str] = (), list_status: int = 200):
        super().__init__(*responses)
        self.RequestHandlerClass = _ListingHandler
        self.listed = list(listed)
        self.list_status = list_status
        self.listings: list[dict] = []


def picture_reply(uri: str) -> Scripted:
    """A chat completion (not streamed) answering with one picture."""
    reply = {
        "choices": [
            {"index": 0, "message": {"content": f"![done]({uri})"}, "finish_reason": "stop"}
        ]
    }
    return Scripted(content_type="application/json", pieces=[json.dumps(reply).encode()])


def error_reply(status: int, message: str) -> Scripted:
    body = {"error": {"message": message, "type": "invalid_request_error"}}
    return Scripted(
        status=status, content_type="application/json", pieces=[json.dumps(body).encode()]
    )
