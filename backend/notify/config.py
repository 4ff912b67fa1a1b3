"""Settings of the notifier, read from ``XF_*`` variables and ``.env`` like the backend's."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.settings import REPO_ROOT


class NotifySettings(BaseSettings):
    """Notifier settings.

    :param wechat_appid: official account appid (``XF_WECHAT_APPID``).
    :param wechat_secret: its secret (``XF_WECHAT_SECRET``).
    :param wechat_api_base: WeChat API base URL (``XF_WECHAT_API_BASE``).
    :param notify_interval_s: seconds between dispatch rounds.
    :param notify_batch: rows claimed per round.
    :param notify_staging: send nothing anywhere, only log (one switch for test systems).
    :param notify_routes: ``channel=sender`` pairs overriding the defaults, e.g. ``wechat=log``.
    """

    model_config = SettingsConfigDict(
        env_prefix="XF_", env_file=REPO_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    wechat_appid: str = ""
    wechat_secret: str = ""
    wechat_api_base: str = "https://api.weixin.qq.com"
    notify_interval_s: float = 30.0
    notify_batch: int = 50
    notify_staging: bool = False
    notify_routes: str = ""

    def routes(self) -> dict[str, str]:
        """Channel → sender name: web chat to the page, WeChat to WeChat when configured, else the log."""
        routes = {"webchat": "webchat"}
        if self.wechat_appid and self.wechat_secret:
            routes["wechat"] = "wechat"
        for pair in self.notify_routes.split(","):
            channel, _, sender = pair.partition("=")
            if channel.strip() and sender.strip():
                routes[channel.strip()] = sender.strip()
        return routes
