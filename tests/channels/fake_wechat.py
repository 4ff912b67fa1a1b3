"""WeChat, as seen from our server: the API at api.weixin.qq.com and the callbacks it makes.

``FakeWeChatAPI`` is an HTTP server on 127.0.0.1 that issues access tokens,
accepts customer-service messages and menus, records every call, and can be
told to refuse tokens (40001) the way WeChat does after a token was replaced.

``WeChatCallbacks`` signs and (in safe/compatible mode) encrypts callback
bodies with wechatpy's own crypto, exactly as WeChat's servers do, and reads
the passive replies.
"""
from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.parse
import uuid
from base64 import b64encode
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

import xmltodict
from wechatpy.crypto import WeChatCrypto

from channels.wechat import sign


class FakeWeChatAPI:
    """A local stand-in for the WeChat API; ``base_url`` goes into XF_WECHAT_API_BASE."""

    def __init__(self, appid: str, secret: str) -> None:
        self.appid = appid
        self.secret = secret
        self.token_calls: list[dict] = []
        self.messages: list[dict] = []  # customer-service messages accepted
        self.menus: list[dict] = []
        self.refused: list[dict] = []  # calls answered with an errcode
        self._valid_tokens: set[str] = set()
        self._queued_errors: list[int] = []
        self._lock = threading.Lock()
        self._condition = threading.Condition(self._lock)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:  # keep test output quiet
                pass

            def _answer(self, payload: dict) -> None:
                body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/cgi-bin/token":
                    self._answer(fake._token(query))
                else:
                    self._answer({"errcode": 40004, "errmsg": "unknown path"})

            def do_POST(self) -> None:  # noqa: N802
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer(fake._post(url.path, query, raw))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    # -- server side ---------------------------------------------------------

    def _token(self, query: dict) -> dict:
        with self._lock:
            self.token_calls.append({"appid": query.get("appid"), "at": time.time()})
            if query.get("appid") != self.appid or query.get("secret") != self.secret:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            token = f"TOKEN-{len(self.token_calls)}-{uuid.uuid4().hex[:6]}"
            self._valid_tokens.add(token)
            return {"access_token": token, "expires_in": 7200}

    def _post(self, path: str, query: dict, raw: bytes) -> dict:
        with self._condition:
            token = query.get("access_token")
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                return {"errcode": 47001, "errmsg": "data format error"}
            call = {"path": path, "token": token, "body": body, "raw": raw}
            if self._queued_errors:
                errcode = self._queued_errors.pop(0)
                self.refused.append({**call, "errcode": errcode})
                return {"errcode": errcode, "errmsg": "queued error"}
            if token not in self._valid_tokens:
                self.refused.append({**call, "errcode": 40001})
                return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
            if path == "/cgi-bin/message/custom/send":
                self.messages.append(call)
                self._condition.notify_all()
                return {"errcode": 0, "errmsg": "ok"}
            if path == "/cgi-bin/menu/create":
                self.menus.append(call)
                return {"errcode": 0, "errmsg": "ok"}
            return {"errcode": 40004, "errmsg": "unknown path"}

    # -- control -------------------------------------------------------------

    def start(self) -> "FakeWeChatAPI":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def answer_next_with(self, errcode: int, times: int = 1) -> None:
        """The next ``times`` API calls (not token fetches) get ``errcode``."""
        with self._lock:
            self._queued_errors.extend([errcode] * times)

    def revoke_tokens(self) -> None:
        """Every token issued so far becomes invalid (another party refreshed)."""
        with self._lock:
            self._valid_tokens.clear()

    def texts_to(self, openid: str) -> list[str]:
        """Contents of the customer-service text messages sent to ``openid``."""
        with self._lock:
            return [
                m["body"]["text"]["content"] for m in self.messages
                if m["body"].get("touser") == openid and m["body"].get("msgtype") == "text"
            ]

    def wait_for_texts(self, openid: str, count: int = 1, timeout_s: float = 15) -> list[str]:
        """Waits until at least ``count`` messages reached ``openid``."""
        deadline = time.monotonic() + timeout_s
        with self._condition:
            while True:
                texts = [
                    m["body"]["text"]["content"] for m in self.messages
                    if m["body"].get("touser") == openid
                ]
                if len(texts) >= count:
                    return texts
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{openid} got {len(texts)} customer-service messages, expected {count}")
                self._condition.wait(left)


def new_aes_key() -> str:
    """A fresh 43-character EncodingAESKey."""
    return b64encode(os.urandom(32)).decode().rstrip("=")


@dataclass
class Callback:
    """One HTTP callback as WeChat would send it."""

    query: dict
    body: bytes
    nonce: str
    timestamp: str


@dataclass
class WeChatCallbacks:
    """Builds the callbacks WeChat's servers send for an official account."""

    token: str
    appid: str
    aes_key: Optional[str] = None
    account: str = "gh_xinfang0001"
    mode: str = "safe"  # "plain" | "compatible" | "safe"
    _msg_ids: list[int] = field(default_factory=lambda: [int(time.time() * 1000) * 1000])

    @property
    def crypto(self) -> WeChatCrypto:
        return WeChatCrypto(self.token, self.aes_key, self.appid)

    def next_msg_id(self) -> int:
        self._msg_ids[0] += 1
        return self._msg_ids[0]

    # -- message XML ---------------------------------------------------------

    def _xml(self, openid: str, msg_type: str, fields: dict, create_time: Optional[int] = None) -> str:
        head = (
            f"<ToUserName><![CDATA[{self.account}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[{msg_type}]]></MsgType>"
        )
        rest = "".join(
            f"<{name}>{value}</{name}>" if isinstance(value, int) else f"<{name}><![CDATA[{value}]]></{name}>"
            for name, value in fields.items()
        )
        return f"<xml>{head}{rest}</xml>"

    def text(self, openid: str, content: str, msg_id: Optional[int] = None) -> str:
        return self._xml(openid, "text", {"Content": content, "MsgId": msg_id or self.next_msg_id()})

    def voice(self, openid: str, recognition: Optional[str], msg_id: Optional[int] = None) -> str:
        fields: dict = {"MediaId": "VOICE_MEDIA_1", "Format": "amr"}
        if recognition is not None:
            fields["Recognition"] = recognition
        fields["MsgId"] = msg_id or self.next_msg_id()
        return self._xml(openid, "voice", fields)

    def image(self, openid: str, media_id: str = "IMG_MEDIA_1", msg_id: Optional[int] = None) -> str:
        return self._xml(openid, "image", {
            "PicUrl": "http://mmbiz.qpic.cn/fake/0", "MediaId": media_id, "MsgId": msg_id or self.next_msg_id(),
        })

    def event(self, openid: str, event: str, key: Optional[str] = None, create_time: Optional[int] = None) -> str:
        fields = {"Event": event}
        if key is not None:
            fields["EventKey"] = key
        return self._xml(openid, "event", fields, create_time=create_time)

    # -- signing and encryption ---------------------------------------------

    def callback(self, xml: str, *, timestamp: Optional[int] = None, nonce: Optional[str] = None) -> Callback:
        """Signs (and in encrypted modes encrypts) ``xml`` like WeChat does."""
        ts = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or uuid.uuid4().hex[:10]
        query = {"signature": sign(self.token, ts, nonce), "timestamp": ts, "nonce": nonce}
        if self.mode == "plain":
            return Callback(query, xml.encode("utf-8"), nonce, ts)
        envelope = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, ts))["xml"]
        query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
        if self.mode == "compatible":
            inner = xml[len("<xml>"):-len("</xml>")]
            body = f"<xml>{inner}<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
        else:
            body = (
                f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
                f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
            )
        sender = re.search(r"<FromUserName><!\[CDATA\[(.*?)\]\]>", xml)
        if sender:
            query["openid"] = sender.group(1)
        return Callback(query, body.encode("utf-8"), nonce, ts)

    def read_reply(self, body: str) -> Optional[dict]:
        """The passive reply as a dict (decrypted in encrypted modes); None for ``success``/empty."""
        if body in ("", "success"):
            return None
        outer = xmltodict.parse(body)["xml"]
        if "Encrypt" in outer:
            plain = self.crypto.decrypt_message(
                {"Encrypt": outer["Encrypt"]}, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"]
            )
            return xmltodict.parse(plain)["xml"]
        return outer
