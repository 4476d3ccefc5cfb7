"""Server-rendered pages of the GitHub emulator's HTML view: Jinja2 templates that escape everything but the
Markdown that `markdown.render` already sanitised (passed in as `Markup`)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .views import VERDICTS, state

_ENV = Environment(
    loader=PackageLoader(__name__, "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.globals.update(state=state, verdicts=VERDICTS)


def render(template: str, **context: Any) -> str:
    """The HTML of `templates/<template>` with `context`; strings are escaped unless they are `Markup`."""
    return _ENV.get_template(template).render(**context)
