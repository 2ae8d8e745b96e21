"""Document text as a reader sees it: Markdown and HTML reduced to their readable text.

What a document is indexed, quoted and cited by is this text, so that no quote carries markup and
no digit of a URL is read as a number or a date:
- Markdown is parsed by markdown-it-py (CommonMark, with tables) and written out as plain text:
  link text kept and URLs dropped, emphasis markers gone, a heading or a list item a paragraph of
  its own, a table row a line "header: cell; header: cell", a hard line break kept as a line break
  (signature blocks and datelines are lines), a line drawn in rule characters ("____") dropped. Indented code blocks are turned off: documents from
  converters (pandoc) indent ordinary paragraphs by four or more spaces, and a prose corpus has far
  more of those than code. Bare URLs in the text are removed (markdown-it only links them with an
  extra package, and a reader does not read them either).
- HTML goes through trafilatura, a maintained main-content extractor (navigation, menus, footers
  left out), as its XML form, which keeps headings, paragraphs, lists and tables apart; the same
  writer turns that into text. Its metadata (<title>, <meta> date, author, description, site name)
  describes the document. A fragment too small for trafilatura falls back to its visible text.
Paragraphs are separated by a blank line, which the sentence splitter treats as a boundary.
"""

from __future__ import annotations

import functools
import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

BARE_URL = re.compile(r"<?\b(?:https?://|www\.)[^\s<>()\[\]]+>?")
SPACES = re.compile(r"[ \t\u00a0]+")
# Emphasis markers Markdown could not pair ("United Kingdom**.  **Furthermore", "host of *Dr. Phil *and",
# a converter's leftovers) stay literal text in the parse: they are markup all the same, never part of
# what a reader reads. (An asterisk between spaces, " * ", is kept: a product or a bullet drawn in text.)
STRAY_EMPHASIS = re.compile(r"\*{2,}|\*(?=\S)|(?<=\S)\*|(?<!\w)__+(?=[^\W_])|(?<=[^\W_])__+(?!\w)")
# An inline code span stands in the joined text as its number between two private-use characters while
# stray markers are removed: "`a**b`" is code, and its asterisks are what the writer typed
CODE_MARK = "\ue000"
CODE_SPAN = re.compile(f"{CODE_MARK}(\\d+){CODE_MARK}")
HTML_BLOCKS = ["address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
               "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
               "section", "table", "td", "th", "tr", "ul"]
TABLE_ROW = "\ue001"  # starts a table row's line in an HTML fragment's text (fragment_blocks)
# A line of only rule characters ("\\_\\_\\_..." under a letterhead, a press release's closing "\\###", escaped
# so Markdown keeps them as text): a separator drawn in characters, not words
RULE_LINE = re.compile(r"[_\-=*~#.·•—–\s]{3,}")
# A link whose address holds an unbalanced "(" (a text fragment: "...#:~:text=The%20company%20(PFE,high"):
# CommonMark then reads no link at all, and "[offered](" would stay in the text. Its text is kept, as
# for any link. Only such addresses are touched; markdown-it parses every other link.
LINK_WITH_PARENTHESIS = re.compile(r"\[((?:[^\[\]\n]|\n(?![ \t]*\n)){1,500})\]\((?:https?://|www\.)[^\s()]*\([^\s]*?\)(?=\s|$|[.,;:!?](?:\s|$))",
                                   re.M)


@functools.cache
def _markdown_parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table").disable("code")


def tidy(text: str) -> str:
    """One paragraph's text: bare URLs removed, runs of spaces folded, each line trimmed."""
    text = BARE_URL.sub("", text)
    lines = [SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line and not RULE_LINE.fullmatch(line))


def table_lines(rows: list[list[str]], header: list[str] | None) -> list[str]:
    """A table as lines a reader (and a sentence splitter) can take one at a time."""
    lines = []
    for row in rows:
        if header and len(header) == len(row):
            cells = [f"{name}: {cell}" if name else cell for name, cell in zip(header, row) if cell]
        else:
            cells = [cell for cell in row if cell]
        if cells:
            lines.append("; ".join(cells))
    return lines


def join_blocks(blocks: list[str]) -> str:
    return "\n\n".join(block for block in (tidy(b) for b in blocks) if block)


def _inline_text(children: list[Token]) -> str:
    parts, code = [], []
    for child in children:
        if child.type == "text":
            parts.append(child.content)
        elif child.type == "code_inline":  # its text is literal: kept out of the stray-marker rule
            parts.append(f"{CODE_MARK}{len(code)}{CODE_MARK}")
            code.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        # link_open/close, em/strong, images and inline HTML tags are markup: their text children
        # are kept (an autolink's text is its URL, which tidy() removes)
    # joined: "Times *" and a link's "writes" are two tokens
    text = STRAY_EMPHASIS.sub("", "".join(parts))
    # (a private-use character the document itself holds is no placeholder: only numbers of this paragraph's spans)
    return CODE_SPAN.sub(lambda found: code[int(found.group(1))] if int(found.group(1)) < len(code) else found.group(0),
                         text) if code else text


def markdown_text(raw: str) -> str:
    """The readable text of a Markdown document (front matter already removed)."""
    blocks: list[str] = []
    rows: list[list[str]] = []
    header: list[str] | None = None
    numbers: list[int | None] = []  # per open list: the next item's number, None for bullets
    prefix = ""
    for token in _markdown_parser().parse(LINK_WITH_PARENTHESIS.sub(r"\1", raw)):
        kind = token.type
        if kind == "bullet_list_open":
            numbers.append(None)
        elif kind == "ordered_list_open":
            numbers.append(int(token.attrGet("start") or 1))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            numbers.pop()
        elif kind == "list_item_open" and numbers and numbers[-1] is not None:
            prefix = f"{numbers[-1]}. "
            numbers[-1] += 1
        elif kind == "tr_open":
            rows.append([])
        elif kind == "thead_close":
            header = rows.pop() if rows else None
        elif kind == "table_close":
            blocks.extend(table_lines(rows, header))
            rows, header = [], None
        elif kind == "inline":
            text = _inline_text(token.children or [])
            if rows and token.level >= 4:  # a table cell (table > thead/tbody > tr > th/td > inline)
                rows[-1].append(tidy(text).replace("\n", " "))
            else:
                blocks.append(prefix + text)
                prefix = ""
        elif kind == "html_block":
            blocks.extend(fragment_blocks(token.content))
        elif kind == "fence":
            blocks.append(token.content)
    return join_blocks(blocks)


def fragment_blocks(html: str) -> list[str]:
    """The visible text of a piece of HTML as blocks: each table row a block of its own, the text between
    tables a block each, with a line per block element."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style", "noscript", "template", "head", "svg"]):
        hidden.decompose()
    # HTML reads a line break in its text as a space ("New\nYork Post"), except in <pre>
    for string in soup.find_all(string=True):
        if string.find_parent("pre") is None and "\n" in string:
            string.replace_with(string.replace("\n", " "))
    # A table's text alone is a cell per line ("Alaska", "11,000", "$2B"), all one sentence: its numbers
    # stand apart from what they count. Each row becomes a line of its own, its cells named by the header
    # row as a Markdown table's are (table_lines). Inner tables first (find_all lists an outer table
    # before the tables inside it).
    for table in reversed(soup.find_all("table")):
        rows = [row.find_all(["th", "td"], recursive=False) for row in table.find_all("tr")
                if row.find_parent("table") is table]
        cells = [[SPACES.sub(" ", cell.get_text(" ", strip=True)) for cell in row] for row in rows]
        headed = bool(rows) and all(cell.name == "th" for cell in rows[0])
        lines = table_lines(cells[1:], cells[0]) if headed else table_lines(cells, None)
        if table.find_parent("table") is not None:  # a table in a cell is part of that cell's text
            table.replace_with(" ".join(lines))
        else:
            table.replace_with("".join(f"\n{TABLE_ROW}{line}\n" for line in lines))
    # A line break stands where a block element starts and ends, none around an inline one ("Some <b>bold</b>
    # text" is one line: get_text("\n") would break it at every tag)
    for element in soup.find_all(HTML_BLOCKS):
        element.insert_before("\n")
        element.insert_after("\n")
    blocks: list[str] = []
    text: list[str] = []
    for line in (SPACES.sub(" ", line).strip() for line in soup.get_text().splitlines()):
        if line.startswith(TABLE_ROW):
            blocks += ["\n".join(text), line[len(TABLE_ROW):]]
            text = []
        elif line:
            text.append(line)
    return [block for block in [*blocks, "\n".join(text)] if block]


def _xml_text(element) -> str:
    """An element's text with <lb/> as a line break (trafilatura's XML)."""
    parts = [element.text or ""]
    for child in element:
        if child.tag in ("list", "table"):
            break  # nested blocks are written as blocks of their own
        parts.append("\n" if child.tag == "lb" else _xml_text(child))
        parts.append(child.tail or "")
    return "".join(parts).replace("\n", " \n")


def _xml_blocks(element, blocks: list[str]) -> None:
    for child in element:
        if child.tag == "table":
            elements = list(child.iter("row"))
            rows = [[tidy(_xml_text(cell)).replace("\n", " ") for cell in row.iter("cell")] for row in elements]
            has_header = bool(elements) and any(cell.get("role") == "head" for cell in elements[0].iter("cell"))
            blocks.extend(table_lines(rows[1:], rows[0]) if has_header and rows else table_lines(rows, None))
        elif child.tag == "list":
            for item in child.findall("item"):
                blocks.append(_xml_text(item))
                _xml_blocks(item, blocks)
        elif child.tag in ("head", "p", "quote", "code", "item"):
            blocks.append(_xml_text(child))
            _xml_blocks(child, blocks)
        else:
            _xml_blocks(child, blocks)


def html_document(raw: str) -> tuple[dict[str, str], str]:
    """(metadata, readable text) of an HTML page: its main content, and what its head says of it."""
    import trafilatura
    from lxml import etree

    metadata: dict[str, str] = {}
    # extensive=False: only the dates the page declares (<meta>, <time>, its URL), not a guess from
    # any year in the text ("Copyright 2025" would date the page 2025-01-01)
    found = trafilatura.extract_metadata(raw, extensive=False)
    if found is not None:
        for key, value in (("title", found.title), ("author", found.author), ("date", found.date),
                           ("description", found.description), ("publisher", found.sitename), ("url", found.url)):
            if value:
                metadata[key] = str(value)
    extracted = trafilatura.extract(raw, output_format="xml", include_tables=True, include_comments=False,
                                    include_links=False, include_images=False, include_formatting=False,
                                    favor_recall=True, with_metadata=False)
    text = ""
    if extracted:
        blocks: list[str] = []
        _xml_blocks(etree.fromstring(extracted.encode("utf-8")), blocks)
        text = join_blocks(blocks)
    if not text.strip():
        text = join_blocks(fragment_blocks(raw))
    return metadata, text
