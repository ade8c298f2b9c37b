# The C engine's walks (kombu_dash/_speedups.c); see kombu_dash/engines/c.py.
from collections.abc import Callable
from typing import Any, NoReturn

class Walker:
    def __new__(
        cls,
        *,
        prefix: str,
        int_min: int,
        int_max: int,
        max_depth: int,
        error: type[BaseException],
        write: Callable[[Any], tuple[str | None, Any]],
        write_fast: dict[type, tuple[str, Callable[[Any], Any]]],
        read: Callable[[str, Any, Any], Any],
        read_fast: dict[str, tuple[type, Callable[[Any], Any]]],
        payload_types: dict[str, type],
        too_deep: Callable[[bool], NoReturn],
        changed: Callable[[Any], NoReturn],
        unwind_tag: Callable[[Any, str, Any], None],
    ) -> Walker: ...
    def encode(self, obj: Any, /) -> Any: ...
    def decode(self, obj: Any, budget: Any, /) -> Any: ...
