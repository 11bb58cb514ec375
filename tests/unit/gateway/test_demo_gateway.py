"""The demo gateway as a server: quiet about clients that hang up."""

import socket
import struct
import threading
import time

from gateway.demo.server import DemoGateway


def test_a_client_hanging_up_leaves_no_traceback(capsys):
    server = DemoGateway()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    before = threading.active_count()
    try:
        with socket.create_connection(server.server_address[:2]) as client:
            client.sendall(b"GET /v1/models HTTP/1.1\r\nHost: demo\r\n\r\n")
            client.recv(65536)
            # Reset, not closed: the handler, waiting for the next request, sees an error.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        deadline = time.monotonic() + 10
        while threading.active_count() > before and time.monotonic() < deadline:
            time.sleep(0.05)  # until the connection's handler thread has ended
    finally:
        server.shutdown()
        server.server_close()
    assert "Traceback" not in capsys.readouterr().err
