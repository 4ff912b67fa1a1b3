"""Notifications to citizens: the outbox rows written with each status change, and their delivery.

``messages`` (texts) is imported by the store; ``senders`` and ``dispatcher``
(aiohttp) only by the notifier process and the API.
"""
