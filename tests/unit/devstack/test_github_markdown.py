"""The GitHub emulator's Markdown: cmark-gfm's output, GitHub's sanitiser allow-list and its alerts."""

from __future__ import annotations

import pytest

from atomesh.devstack.github.markdown import ALERTS, render


def test_gfm_extensions_render() -> None:
    html = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n~~old~~ www.example.com\n")
    assert "<table>\n<thead>\n<tr>\n<th>a</th>" in html
    assert "<td>2</td>" in html
    assert '<li><input type="checkbox" checked="" disabled=""> done</li>' in html
    assert '<li><input type="checkbox" disabled=""> todo</li>' in html
    assert '<del>old</del> <a href="http://www.example.com" rel="nofollow">www.example.com</a>' in html


def test_fenced_code_is_escaped() -> None:
    html = render("```html\n<b>x</b>\n```\n")
    assert "<code>&lt;b&gt;x&lt;/b&gt;\n</code>" in html


def test_details_and_allowed_html_stay() -> None:
    html = render("<details open><summary>More</summary>\n\n**inner**\n\n</details>\n\n<kbd>Ctrl</kbd>")
    assert '<details open=""><summary>More</summary>\n<p><strong>inner</strong></p>\n</details>' in html
    assert "<kbd>Ctrl</kbd>" in html


def test_comments_are_hidden() -> None:
    assert render("<!-- atomesh: run=r-1 -->\nshown\n").strip() == "<p>shown</p>"


@pytest.mark.parametrize(
    ("markdown", "gone"),
    [
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ('<img src="x" onerror="alert(1)">', "onerror"),
        ('<p class="c" id="i" style="color:red">x</p>', "class="),
        ('<p class="c" id="i" style="color:red">x</p>', "style="),
        ("<iframe src='https://example.com'></iframe>", "<iframe"),
        ("<form><input name=q></form>", "<form"),
        ("<style>body{}</style>", "<style>"),
    ],
)
def test_unsafe_html_is_sanitised(markdown: str, gone: str) -> None:
    assert gone not in render(markdown)


def test_script_is_escaped_by_the_tag_filter() -> None:
    # GFM's tagfilter extension escapes <script> (and similar) rather than dropping it, as github.com shows it.
    assert "&lt;script&gt;" in render("x <script>alert(1)</script>")


@pytest.mark.parametrize("kind", ALERTS)
def test_alerts(kind: str) -> None:
    html = render(f"> [!{kind.upper()}]\n> Body *text*.\n")
    title = f'<p class="markdown-alert-title">{kind.capitalize()}</p>'
    assert html.strip() == (
        f'<div class="markdown-alert markdown-alert-{kind}">{title}\n<p>Body <em>text</em>.</p>\n</div>'
    )


def test_line_breaks_are_hard_as_in_comments() -> None:
    assert render("first\nsecond\n").strip() == "<p>first<br>\nsecond</p>"


def test_alert_keeps_its_own_line_breaks() -> None:
    html = render("> [!CAUTION]\n> one\n> two\n")
    assert html.strip() == (
        '<div class="markdown-alert markdown-alert-caution"><p class="markdown-alert-title">Caution</p>\n'
        "<p>one<br>\ntwo</p>\n</div>"
    )


def test_alert_marker_alone_in_its_paragraph() -> None:
    html = render("> [!TIP]\n>\n> First.\n>\n> Second.\n")
    assert html.startswith('<div class="markdown-alert markdown-alert-tip"><p class="markdown-alert-title">Tip</p>')
    assert "<p></p>" not in html
    assert "[!TIP]" not in html
    assert html.count("</div>") == 1
    assert "<blockquote>" not in html


@pytest.mark.parametrize(
    "markdown",
    [
        "> plain quote\n",
        "> [!NOTE] with a title on the line\n",
        "> [!UNKNOWN]\n> text\n",
        "- item\n\n  > [!NOTE]\n  > nested in a list\n",
        "> outer\n>\n> > [!NOTE]\n> > nested in a quote\n",
    ],
)
def test_what_is_not_an_alert_stays_a_quote(markdown: str) -> None:
    html = render(markdown)
    assert "markdown-alert" not in html
    assert "<blockquote>" in html
