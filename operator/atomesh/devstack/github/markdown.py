"""GitHub-flavoured Markdown for the emulator's pages, rendered the way github.com renders a comment.

Three steps, as GitHub's own pipeline does them:
1. cmark-gfm (GitHub's fork of cmark, through `cmarkgfm`) with GitHub's extensions: tables, strikethrough,
   autolinks, task lists, tag filter; with hard line breaks, as GitHub renders issues, pull requests and
   comments (files such as READMEs it renders without). Raw HTML is let through here ("unsafe") because
   GitHub does not drop it at this stage: its sanitiser decides, element by element.
2. The sanitiser (`nh3`, i.e. ammonia) with the allow-list of GitHub's sanitization filter (html-pipeline):
   `<details>`, `<summary>`, tables, `<kbd>`... stay; `<script>`, `<style>`, `class`, `id`, `style` and event
   attributes go, and so do HTML comments, which is how atomesh's hidden provenance stays hidden.
3. Alerts (`> [!NOTE]`, `[!TIP]`, `[!IMPORTANT]`, `[!WARNING]`, `[!CAUTION]`): cmark-gfm leaves them as
   block quotes; GitHub turns a top-level block quote whose first line is only the marker into
   `<div class="markdown-alert markdown-alert-note"><p class="markdown-alert-title">Note</p>...</div>`.
   This runs after sanitising, as GitHub's does, since the sanitiser would strip its classes; it walks the
   sanitised HTML with the standard library's HTML parser and copies every token through unchanged but those.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options

# GitHub's sanitization filter allow-list (html-pipeline's SanitizationFilter, which github/markup points to).
TAGS = {
    *("h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8", "br", "b", "i", "strong", "em", "a", "pre", "code", "img"),
    *("tt", "div", "ins", "del", "sup", "sub", "p", "ol", "ul", "table", "thead", "tbody", "tfoot", "blockquote"),
    *("dl", "dt", "dd", "kbd", "q", "samp", "var", "hr", "ruby", "rt", "rp", "li", "tr", "td", "th", "s", "strike"),
    *("summary", "details", "caption", "figure", "figcaption", "abbr", "bdo", "cite", "dfn", "mark", "small"),
    *("span", "time", "wbr", "input"),
}
_ANY = {
    *("abbr", "accept", "accept-charset", "accesskey", "action", "align", "alt", "aria-describedby", "aria-hidden"),
    *("aria-label", "aria-labelledby", "axis", "border", "cellpadding", "cellspacing", "char", "charoff", "charset"),
    *("checked", "clear", "cols", "colspan", "color", "compact", "coords", "datetime", "dir", "disabled", "enctype"),
    *("for", "frame", "headers", "height", "hreflang", "hspace", "ismap", "label", "lang", "maxlength", "media"),
    *("method", "multiple", "name", "nohref", "noshade", "nowrap", "open", "progress", "prompt", "readonly", "rev"),
    *("role", "rows", "rowspan", "rules", "scope", "selected", "shape", "size", "span", "start", "summary"),
    *("tabindex", "target", "title", "type", "usemap", "valign", "value", "vspace", "width", "itemprop"),
}
ATTRIBUTES = {
    "*": _ANY,
    "a": {"href"},
    "img": {"src", "longdesc"},
    "div": {"itemscope", "itemtype"},
    "blockquote": {"cite"},
    "del": {"cite"},
    "ins": {"cite"},
    "q": {"cite"},
}
# Links keep http(s) and mailto (and relative URLs); javascript: and data: go. nh3 applies one list to
# every URL attribute, where GitHub allows mailto on <a href> only: an <img src="mailto:..."> shows nothing anyway.
URL_SCHEMES = {"http", "https", "mailto"}

ALERTS = ("note", "tip", "important", "warning", "caution")
_MARKER = re.compile(r"\[!(" + "|".join(ALERTS) + r")\][ \t]*(?:\n|$)", re.IGNORECASE)
# Elements without an end tag: they never open a level of nesting.
_VOID = {"area", "br", "col", "embed", "hr", "img", "input", "source", "track", "wbr"}


def render(text: str) -> str:
    """Sanitised HTML for a GitHub-flavoured Markdown body or comment."""
    # Hard breaks: in issues, pull requests and their comments GitHub renders each line break as one.
    options = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_HARDBREAKS
    raw = cmarkgfm.github_flavored_markdown_to_html(text, options=options)
    clean = nh3.clean(
        raw, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel="nofollow", strip_comments=True
    )
    return _alerts(clean)


def _alerts(html: str) -> str:
    parser = _AlertParser()
    parser.feed(html)
    parser.close()
    return "".join(parser.out)


class _AlertParser(HTMLParser):
    """Copies HTML token by token, rewriting top-level `<blockquote><p>[!KIND]...` into GitHub's alert markup."""

    def __init__(self) -> None:
        # Entities stay as written: the input is already sanitised, escaped HTML and goes out as it came.
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.depth = 0
        # Per open blockquote: its index in `out` and whether it became an alert.
        self.quotes: list[tuple[int, bool]] = []
        self.awaiting_paragraph = False  # a top-level quote opened and nothing but whitespace followed yet
        self.first_paragraph: int | None = None  # index in `out` of a candidate first <p> of a top-level quote
        self.after_marker = False  # the marker ended its line; what ends that line goes too
        self.strip_newline = False
        self.drop_end_p = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        after_marker, self.after_marker = self.after_marker, False
        if after_marker and tag == "br":
            # Comments render line breaks as <br> (hard breaks); the one ending the marker's line is not content.
            self.strip_newline = True
            return
        self.first_paragraph = len(self.out) if tag == "p" and self.awaiting_paragraph else None
        self.awaiting_paragraph = tag == "blockquote" and self.depth == 0
        if tag == "blockquote":
            self.quotes.append((len(self.out), False))
        self.out.append(self.get_starttag_text() or "")
        if tag not in _VOID:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.after_marker and tag == "p":
            # The marker was the whole paragraph: GitHub keeps no empty <p> after the title.
            self.out.pop()
            self.drop_end_p = True
        self.first_paragraph = None
        self.awaiting_paragraph = self.after_marker = False
        if tag not in _VOID:
            self.depth -= 1
        if tag == "p" and self.drop_end_p:
            self.drop_end_p = False
            return
        if tag == "blockquote" and self.quotes:
            _, alert = self.quotes.pop()
            self.out.append("</div>" if alert else "</blockquote>")
            return
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self.strip_newline:
            self.strip_newline = False
            data = data.removeprefix("\n")
        self.awaiting_paragraph = self.awaiting_paragraph and not data.strip()
        self.after_marker = False
        if self.first_paragraph is not None and self.first_paragraph == len(self.out) - 1:
            match = _MARKER.match(data)
            if match:
                self._make_alert(match.group(1).lower())
                data = data[match.end() :]
                self.after_marker = not data
        self.first_paragraph = None
        if data:
            self.out.append(data)

    def _make_alert(self, kind: str) -> None:
        index, _ = self.quotes[-1]
        self.quotes[-1] = (index, True)
        self.out[index] = (
            f'<div class="markdown-alert markdown-alert-{kind}"><p class="markdown-alert-title">{kind.capitalize()}</p>'
        )

    def handle_entityref(self, name: str) -> None:
        self._other_token()
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._other_token()
        self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def _other_token(self) -> None:
        self.first_paragraph = None
        self.awaiting_paragraph = self.after_marker = self.strip_newline = False
