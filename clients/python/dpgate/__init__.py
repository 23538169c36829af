"""A client for a dpgate gateway, using only the Python standard library.

    from dpgate import Client
    gateway = Client("http://127.0.0.1:8787", key="dpg_...")
    answer = gateway.query("SELECT educ, COUNT(*) FROM people GROUP BY educ", epsilon=0.5)
    answer.to_dataframe()   # a pandas DataFrame when pandas is installed

Refusals and errors raise ``DpgateError`` (or a subclass) with the problem's stable ``code`` and,
for a refused query, the ``position`` in the SQL text it points at.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin

__all__ = [
    "Answer",
    "BudgetExhausted",
    "Client",
    "DpgateError",
    "GatewayUnreachable",
    "QueryRefused",
    "Unauthorized",
]
__version__ = "0.1.0"


class DpgateError(Exception):
    """A problem answered by the gateway (RFC 9457), or a failure to reach it."""

    def __init__(self, status: int, problem: dict[str, Any]):
        self.status = status
        self.problem = problem
        self.code: str = str(problem.get("code", "http_error"))
        self.detail: str = str(problem.get("detail", f"the gateway answered {status}"))
        position = problem.get("position")
        self.position: int | None = position if isinstance(position, int) else None
        self.request_id: str | None = problem.get("request_id")
        super().__init__(f"{self.code}: {self.detail}")


class QueryRefused(DpgateError):
    """The query cannot be answered privately (syntax, row-level output, a forbidden table, …)."""

    def caret(self, sql: str) -> str:
        """The query with a caret under the refused position, as the CLI prints it."""
        if self.position is None:
            return sql
        return f"{sql}\n{' ' * self.position}^"


class BudgetExhausted(DpgateError):
    """A community in scope cannot pay for the request; nothing was charged."""


class Unauthorized(DpgateError):
    """The key is missing, unknown or revoked (401), or its role may not do this (403)."""


class GatewayUnreachable(DpgateError):
    """The gateway could not be reached (status 0)."""


def _error_for(status: int, problem: dict[str, Any]) -> DpgateError:
    code = problem.get("code")
    if code == "budget_exhausted":
        return BudgetExhausted(status, problem)
    if status in (401, 403):
        return Unauthorized(status, problem)
    if status in (403, 422) and code not in ("invalid_request", "invalid_training", "invalid_policy"):
        return QueryRefused(status, problem)
    return DpgateError(status, problem)


@dataclass
class Answer:
    """A noisy answer: rows, each cell's accuracy, the cost and every community charged."""

    columns: list[str]
    rows: list[list[Any]]
    accuracy: list[list[Any]]
    cost: dict[str, Any]
    charged: list[dict[str, Any]]
    remaining: dict[str, Any]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Answer:
        return cls(
            columns=list(body.get("columns", [])),
            rows=[list(row) for row in body.get("rows", [])],
            accuracy=[list(row) for row in body.get("accuracy", [])],
            cost=dict(body.get("cost", {})),
            charged=list(body.get("charged", [])),
            remaining=dict(body.get("remaining", {})),
            raw=body,
        )

    def records(self) -> list[dict[str, Any]]:
        """One dict per row, column name to value."""
        return [dict(zip(self.columns, row)) for row in self.rows]

    def to_dataframe(self):
        """The rows as a pandas DataFrame (pandas must be installed); the answer in ``attrs``."""
        try:
            import pandas
        except ImportError as error:
            raise ImportError("to_dataframe needs pandas: pip install pandas") from error
        frame = pandas.DataFrame(self.rows, columns=self.columns)
        frame.attrs["cost"] = self.cost
        frame.attrs["charged"] = self.charged
        frame.attrs["accuracy"] = self.accuracy
        return frame


class Client:
    """One gateway and one API key."""

    def __init__(self, url: str, key: str, timeout: float = 120.0):
        self.url = url if url.endswith("/") else url + "/"
        self.key = key
        self.timeout = timeout

    def query(
        self,
        sql: str,
        epsilon: float | None = None,
        delta: float | None = None,
        mechanism: str | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> Answer:
        """Asks one aggregate SELECT. Raises QueryRefused, BudgetExhausted, … when refused."""
        body: dict[str, Any] = {"sql": sql}
        if epsilon is not None:
            body["epsilon"] = epsilon
        if delta is not None:
            body["delta"] = delta
        if mechanism is not None:
            body["mechanism"] = mechanism
        if dry_run:
            body["dry_run"] = True
        if idempotency_key is not None:
            body["idempotency_key"] = idempotency_key
        return Answer.from_json(self.request("POST", "v1/queries", body))

    def me(self) -> dict[str, Any]:
        return self.request("GET", "v1/me")

    def communities(self) -> list[dict[str, Any]]:
        """Every community's budget, spend and what is left."""
        return self.request("GET", "v1/communities")["communities"]

    def ledger(self, community: str) -> dict[str, Any]:
        return self.request("GET", f"v1/communities/{quote(community, safe='')}/ledger")

    def request(self, method: str, path: str, payload: Any = None) -> Any:
        """Any route of the API, answered as JSON; problems raise DpgateError."""
        url = urljoin(self.url, path.lstrip("/"))
        data = None if payload is None else json.dumps(payload).encode()
        headers = {"authorization": f"Bearer {self.key}", "accept": "application/json"}
        if data is not None:
            headers["content-type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            try:
                problem = json.load(error)
            except ValueError:
                problem = {"code": "not_json", "detail": f"{url} answered {error.code} without JSON"}
            raise _error_for(error.code, problem) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise GatewayUnreachable(
                0, {"code": "unreachable", "detail": f"cannot reach the gateway at {self.url} ({reason})"}
            ) from None
