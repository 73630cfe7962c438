"""Plain YAML for definitions: PyYAML's safe loader without aliases.

An alias (`*name`) repeats what its anchor holds; nested, a few hundred bytes expand to gigabytes when loaded (the
"billion laughs"), and every task loads definitions. A definition needs none, so the composer refuses the first one
it meets, naming its line, before anything is built. Nesting deep enough to exhaust Python's recursion is refused too.
"""

from __future__ import annotations

from typing import Any

import yaml


class PlainYamlError(ValueError):
    """The text is not plain YAML; the message names the line."""


class _PlainLoader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise PlainYamlError(
                f"line {event.start_mark.line + 1}: YAML alias *{event.anchor} is not allowed in a source definition "
                "(write the value out)"
            )
        return super().compose_node(parent, index)


def load_plain_yaml(text: str) -> Any:
    """One YAML document without aliases, as yaml.safe_load reads it."""
    try:
        return yaml.load(text, Loader=_PlainLoader)  # noqa: S506 - _PlainLoader is a SafeLoader
    except yaml.YAMLError as error:
        raise PlainYamlError(f"not valid YAML: {error}") from None
    except RecursionError:
        raise PlainYamlError("not valid YAML: nested too deeply") from None
