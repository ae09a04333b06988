"""The shop's tables: orders, uploads and jobs (the worker's queue)."""

from .jobs import Job
from .orders import Order
from .uploads import Upload

__all__ = ["Job", "Order", "Upload"]
