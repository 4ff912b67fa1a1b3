"""The durable case queue between the bot side and the backend (contract section 5).

``open_queue`` picks the Redis Stream (``XF_REDIS_URL``) or the embedded SQLite queue;
``CaseProducer`` (in ``backend.queue.producer``) is the light publisher for the action
server. This package stays import-light: nothing here imports redis.asyncio, aiohttp,
SQLAlchemy or pydantic until a Redis queue is actually opened.
"""

from backend.queue.base import CaseQueue, Delivery, default_var_dir, open_queue, queue_prefix
from backend.queue.constants import QueueNames

__all__ = [
    "CaseQueue",
    "Delivery",
    "QueueNames",
    "default_var_dir",
    "open_queue",
    "queue_prefix",
]
