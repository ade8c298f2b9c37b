# The optional C walks (kombu_dash/_speedups.c); see kombu_dash/_fastpath.py.
from collections.abc import Callable
from typing import Any

class DepthError(ValueError): ...

def to_wire(
    obj: Any,
    tagger: Callable[[Any], tuple[str | None, Any]],
    max_depth: int,
    fast: dict[type, tuple[str, Callable[[Any], Any]]],
    /,
) -> Any: ...
def untag(
    obj: Any,
    build: Callable[[str, Any, Any], Any],
    state: Any,
    max_depth: int,
    fast: dict[str, tuple[type, Callable[[Any], Any]]],
    /,
) -> Any: ...
