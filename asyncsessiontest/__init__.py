"""Unit tests for code that uses SQLAlchemy's ``AsyncSession``, from plain unittest."""

from asyncsessiontest.case import AsyncSessionMixin, AsyncSessionTestCase
from asyncsessiontest.errors import SessionNotSetUpError
from asyncsessiontest.factory import SessionFactoryStandIn
from asyncsessiontest.recording import ExecutedStatement, History, Operation
from asyncsessiontest.results import CannedResult, make_result
from asyncsessiontest.transaction import TransactionStandIn

__version__ = "0.1.0"

__all__ = [
    "AsyncSessionTestCase",
    "AsyncSessionMixin",
    "make_result",
    "CannedResult",
    "TransactionStandIn",
    "SessionFactoryStandIn",
    "History",
    "Operation",
    "ExecutedStatement",
    "SessionNotSetUpError",
]
