"""A loopback OpenAI-compatible server (POST /v1/chat/completions, streamed and not), for tests and benches.

It records each request (body and headers) and answers with `reply`, word by word when streamed
(`delay` seconds between chunks), or fails as told: `status` (e.g. 500), `stall` (no answer for that
many seconds), `drop_after` (close the stream after that many chunks, without [DONE]).
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    def __init__(self, reply: str = "Kim menginginkan teknologi militer [1].") -> None:
        self.reply = reply
        self.delay = 0.0
        self.status = 200
        self.stall = 0.0
        self.drop_after: int | None = None
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                fake.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                if fake.stall:
                    time.sleep(fake.stall)
                if fake.status != 200:
                    self._json(fake.status, {"error": {"message": "boom", "type": "server_error"}})
                elif body.get("stream"):
                    self._stream(body)
                else:
                    message = {"role": "assistant", "content": fake.reply}
                    choice = {"index": 0, "message": message, "finish_reason": "stop"}
                    self._json(
                        200, {**fake._head(body, "chat.completion"), "choices": [choice], "usage": fake._usage(body)}
                    )

            def _json(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                pieces = re.findall(r"\S+\s*", fake.reply)
                for i, piece in enumerate(pieces):
                    if fake.drop_after is not None and i >= fake.drop_after:
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
                    chunk = {**fake._head(body, "chat.completion.chunk"), "choices": [{"index": 0, "delta": delta}]}
                    self._event(chunk)
                    time.sleep(fake.delay)
                done = {
                    **fake._head(body, "chat.completion.chunk"),
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                }
                self._event(done)
                if (body.get("stream_options") or {}).get("include_usage"):
                    self._event(
                        {**fake._head(body, "chat.completion.chunk"), "choices": [], "usage": fake._usage(body)}
                    )
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, payload: dict) -> None:
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def _head(self, body: dict, kind: str) -> dict:
        return {"id": "chatcmpl-kabar", "object": kind, "created": int(time.time()), "model": body.get("model", "")}

    def _usage(self, body: dict) -> dict:
        prompt = sum(len(m.get("content", "").split()) for m in body.get("messages", []))
        completion = len(self.reply.split())
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def prompt(self, n: int = -1) -> str:
        """The user message of request n (the question and the numbered passages)."""
        return self.requests[n]["body"]["messages"][-1]["content"]

    def __enter__(self) -> FakeOpenAI:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
