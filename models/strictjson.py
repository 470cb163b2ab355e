"""JSON from outside (request bodies, JSONL lines, JSON documents) read within bounds, or a reason why not.

`json.loads` alone lets three things through that fail later, far from the input: an integer of
more than 4300 digits raises a bare ValueError (Python's int max str digits, a guard against a
quadratic conversion), nesting deeper than the recursion limit raises RecursionError, and a lone
surrogate (a `\\ud800` escape without its pair, or its raw bytes: bytes are read with surrogatepass)
makes a string that no UTF-8 answer, manifest or file can hold. Each is a `JsonError` here.
"""

from __future__ import annotations

import json
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonError(ValueError):
    """The input is not JSON this service reads; the message says why, without echoing the input."""


def loads(data: bytes | str, surrogates: bool = False) -> Any:
    """`json.loads(data)`, with every refusal a `JsonError`; `surrogates`: the caller checks for them itself."""
    try:
        value = json.loads(data)
    except json.JSONDecodeError as error:
        raise JsonError(f"{error.msg} at line {error.lineno} column {error.colno}") from None
    except UnicodeDecodeError as error:
        raise JsonError(f"not UTF-8: a bad byte at offset {error.start}") from None
    except RecursionError:
        raise JsonError("nested too deeply") from None
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise JsonError("an integer of more than 4300 digits") from None
    if not surrogates and has_lone_surrogate(value):
        raise JsonError(LONE_SURROGATE)
    return value


LONE_SURROGATE = "a lone surrogate (a \\ud800-\\udfff escape without its pair) in a string: send valid Unicode"


def has_lone_surrogate(value: Any) -> bool:
    """Whether a string (or object key) anywhere in `value` holds a surrogate; the parser joins real pairs."""
    stack = [value]
    while stack:  # not recursive: `value` may be as deep as the parser allows
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
