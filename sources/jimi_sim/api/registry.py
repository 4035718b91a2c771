"""How an API method is declared: a handler function, registered by name in its module's `MethodTable`.

Each module of `methods/` holds one table and registers its handlers with `@METHODS.method(name, *required)`;
`methods/__init__.py` joins the tables into the one the HTTP layer serves. The HTTP layer does the common
checks (signature, timestamp, token, required parameters) from the registration and calls the handler
with the validated parameters. A handler returns the success payload (`result` and/or `data`, as the
method's documented envelope has them), or the whole serialised body, or raises ApiError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sources.jimi_sim.api.state import Simulator

Payload = dict[str, object]
Answer = Payload | bytes  # bytes: the whole success body, already serialised (track.list's fast path)
Handler = Callable[["Simulator", Mapping[str, str]], Answer]


@dataclass(frozen=True)
class Method:
    name: str
    handler: Handler
    required: tuple[str, ...]
    needs_token: bool = True
    # Heavy handlers run in a worker thread so a long query never stalls other requests.
    blocking: bool = False


class MethodTable(dict[str, Method]):
    """API methods by name, as one module declares them."""

    def method(
        self, name: str, *required: str, needs_token: bool = True, blocking: bool = False
    ) -> Callable[[Handler], Handler]:
        """Register a handler for an API method name with its required private parameters."""

        def register(handler: Handler) -> Handler:
            if name in self:
                twice = f"{self[name].handler.__name__}, {handler.__name__}"
                raise ValueError(f"API method {name} is registered twice ({twice})")
            self[name] = Method(name, handler, required, needs_token, blocking)
            return handler

        return register


def joined(*tables: MethodTable) -> dict[str, Method]:
    """One table of every method in `tables`; a name declared in two of them is an error that names it."""
    served: dict[str, Method] = {}
    for table in tables:
        for name, method in table.items():
            if name in served:
                twice = f"{served[name].handler.__module__}, {method.handler.__module__}"
                raise ValueError(f"API method {name} is declared twice ({twice})")
            served[name] = method
    return served
