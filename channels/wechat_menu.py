"""``xinfang wechat menu``: creates the official account's custom menu.

The menu's CLICK keys are the ones the WeChat channel understands
(``channels.wechat.MENU_KEYS``): 我要信访 / 查询进度 / 受理范围.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from channels.wechat_api import WeChatAPI, WeChatAPIError

DEFAULT_MENU: dict[str, Any] = {
    "button": [
        {"type": "click", "name": "我要信访", "key": "FILE_PETITION"},
        {"type": "click", "name": "查询进度", "key": "QUERY_PROGRESS"},
        {"type": "click", "name": "受理范围", "key": "SCOPE"},
    ]
}


def add_wechat_parser(subparsers: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    """Adds ``wechat menu [--file F] [--dry-run]`` to the ``xinfang`` command."""
    wechat = subparsers.add_parser("wechat", help="WeChat official account")
    actions = wechat.add_subparsers(dest="wechat_command", required=True)
    menu = actions.add_parser("menu", help="create the custom menu (我要信访 / 查询进度 / 受理范围)")
    menu.add_argument("--file", type=Path, help="a menu JSON of your own instead of the default")
    menu.add_argument("--dry-run", action="store_true", help="print the menu JSON, call nothing")
    return wechat


def _load_menu(path: Path | None) -> dict[str, Any]:
    if path is None:
        return DEFAULT_MENU
    try:
        menu = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SystemExit(f"无法读取菜单文件 {path}：{error}") from None
    if not isinstance(menu, dict) or not isinstance(menu.get("button"), list):
        raise SystemExit(f"菜单文件 {path} 应为含 \"button\" 列表的 JSON 对象。")
    return menu


async def _create(menu: dict[str, Any]) -> None:
    api = WeChatAPI.from_env()
    try:
        await api.create_menu(menu)
    finally:
        await api.close()


def run_wechat(args: argparse.Namespace) -> int:
    """Runs ``xinfang wechat ...``; returns the exit status."""
    if args.wechat_command != "menu":
        return 2
    menu = _load_menu(args.file)
    if args.dry_run:
        print(json.dumps(menu, ensure_ascii=False, indent=2))
        return 0
    try:
        asyncio.run(_create(menu))
    except WeChatAPIError as error:
        if error.errcode is None and "must be set" in error.errmsg:
            print("请先设置 XF_WECHAT_APPID 和 XF_WECHAT_SECRET。", file=sys.stderr)
        else:
            print(f"创建菜单失败：{error}", file=sys.stderr)
        return 1
    print("公众号菜单已创建：" + " / ".join(button["name"] for button in menu["button"]))
    return 0
