import json
import socket
import struct
import threading

import pytest


def _serve(sock: socket.socket, reset_every: int) -> None:
    served = 0
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        served += 1
        conn.recv(4096)
        if reset_every and served % reset_every == 0:
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            continue
        body = json.dumps({"available": 12}).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        conn.sendall(head + body)
        conn.close()


@pytest.fixture(scope="session")
def stock_server():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    thread = threading.Thread(target=_serve, args=(sock, 97), daemon=True)
    thread.start()
    yield sock.getsockname()
    sock.close()
