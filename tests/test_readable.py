"""Document text as a reader sees it: no markup survives, and what a reader reads is kept."""

import re

import pytest

from app.readable import html_document, markdown_text

MARKUP = re.compile(r"\]\(|\*\*|</?[a-z]+[^<>]*>|https?://|^#", re.M)


@pytest.mark.parametrize("markdown, readable", [
    ("Established by [Executive Order](https://www.whitehouse.gov/presidential-actions/2025/01/x/) 14148.",
     "Established by Executive Order 14148."),
    ("**DETERRING AND PUNISHING HEINOUS CRIMES:** Today, the President acted.",
     "DETERRING AND PUNISHING HEINOUS CRIMES: Today, the President acted."),
    ('<span style="letter-spacing: 0.2px">The tariff on steel is 25 percent.</span>',
     "The tariff on steel is 25 percent."),
    ("Senator [Tim Scott](https://x.com/SenatorTimScott/status/2065123) said so.", "Senator Tim Scott said so."),
    ("See https://example.com/2025/05/12/report for more.", "See for more."),
    ("# Heading\n\nA paragraph that was\nhard wrapped.", "Heading\n\nA paragraph that was hard wrapped."),
    ("Price \\$5 and *emphasis* and `code`.", "Price $5 and emphasis and code."),
    ("traced to the\nUnited Kingdom**.  **Furthermore, a third", "traced to the United Kingdom. Furthermore, a third"),
    ("an unpaired __marker and a blank ____ line", "an unpaired marker and a blank ____ line"),
    ("Office of Communications\n\n\\_\\_\\_\\_\\_\\_\\_\\_\n\nFor Immediate Release", "Office of Communications\n\nFor Immediate Release"),
    ("Pfizer [offered](https://www.reuters.com/x/#:~:text=The%20company%20(PFE,high%20as%2085%25.) savings of 50%.",
     "Pfizer offered savings of 50%."),
    ("a [balanced](https://en.wikipedia.org/wiki/Tariff_(economics)) link.", "a balanced link."),
    ("(see [the order](https://example.com/a)).", "(see the order)."),
    ("[U.S. Wheat Associates President and CEO Mike\nSpier](https://x.com/#:~:text=a%20(USW,high%20wheat.): “We are”",
     "U.S. Wheat Associates President and CEO Mike Spier: “We are”"),
    ("The longtime host of *Dr. Phil *and author.\n\n\\###", "The longtime host of Dr. Phil and author."),
    ("a 15% *ad valorem *tariff, and 3 * 4 units", "a 15% ad valorem tariff, and 3 * 4 units"),
    ("the Los Angeles Times *[writes](https://www.latimes.com/x) that", "the Los Angeles Times writes that"),
])
def test_markdown_becomes_plain_text(markdown, readable):
    assert markdown_text(markdown) == readable


def test_inline_code_keeps_the_characters_the_writer_typed():
    # A code span's text is literal (CommonMark): stray-marker removal must not reach inside it
    assert markdown_text("Call `f(*args, **kwargs)` or `a__b`, not **this.") == "Call f(*args, **kwargs) or a__b, not this."
    assert markdown_text("A \ue0007\ue000 of the text itself, and `x`.") == "A \ue0007\ue000 of the text itself, and x."


def test_an_html_table_in_markdown_reads_a_row_per_line_with_its_header():
    markdown = ("The report details the benefits in every state:\n\n<figure>\n<table>\n<thead>\n<tr>\n"
                "<th><strong>State</strong></th>\n<th><strong>Jobs Protected</strong></th>\n</tr>\n</thead>\n<tbody>\n"
                "<tr>\n<td>Alabama</td>\n<td>80,000</td>\n</tr>\n<tr>\n<td>Alaska</td>\n<td>11,000</td>\n</tr>\n"
                "</tbody>\n</table>\n<figcaption>Source: the\nreport</figcaption>\n</figure>\n\nAfter the table.")
    assert markdown_text(markdown) == ("The report details the benefits in every state:\n\n"
                                       "State: Alabama; Jobs Protected: 80,000\n\nState: Alaska; Jobs Protected: 11,000\n\n"
                                       "Source: the report\n\nAfter the table.")
    # a table inside a cell is that cell's text; a table without a header row lists its cells
    assert markdown_text("<table><tr><td>a</td><td><table><tr><td>x</td><td>y</td></tr></table></td></tr></table>") == "a; x; y"


def test_an_html_block_breaks_lines_at_block_elements_only():
    # inline tags and the source's line breaks do not cut a sentence; <pre> keeps its lines
    assert markdown_text("<div><p>Click\n<a href='x'>here</a> to see\nthe <b>bill</b>.</p><p>Next<br>line</p>"
                         "<pre>a\nb</pre></div>") == "Click here to see the bill.\nNext\nline\na\nb"


def test_lists_tables_and_indented_paragraphs_stay_readable():
    text = markdown_text("Items:\n\n-   **First** item\n-   Second item\n\n1. one\n2. two\n\n"
                         "| Country | Rate |\n|---|---|\n| Canada | 25% |\n| [Mexico](http://m) | 10% |\n\n"
                         "     By the authority vested in me as President, I order:\n")
    assert text.split("\n\n") == ["Items:", "First item", "Second item", "1. one", "2. two", "Country: Canada; Rate: 25%",
                                  "Country: Mexico; Rate: 10%", "By the authority vested in me as President, I order:"]
    assert not MARKUP.search(text)


def test_hard_line_breaks_keep_signature_blocks_as_lines():
    text = markdown_text("JOSEPH R. BIDEN JR.  \n\nTHE WHITE HOUSE,  \n  August 9, 2023.\n")
    assert text == "JOSEPH R. BIDEN JR.\n\nTHE WHITE HOUSE,\nAugust 9, 2023."


def test_html_main_content_and_metadata():
    page = ("<html><head><title>Roads</title><meta name='author' content='Jane Doe'>"
            "<meta property='article:published_time' content='2024-03-04'></head><body>"
            "<nav><a href='/'>Home</a> | <a href='/about'>About</a></nav><article><h1>Roads plan</h1>"
            "<p>The ministry said on Monday that it would spend <b>$5 billion</b> on roads over ten years.</p>"
            "<ul><li>Item one of the plan</li><li>Item two of the plan</li></ul>"
            "<table><tr><th>Year</th><th>Spend</th></tr><tr><td>2025</td><td>$1 billion</td></tr></table>"
            "</article><footer>Copyright 2025 Example</footer></body></html>")
    metadata, text = html_document(page)
    assert metadata["author"] == "Jane Doe" and metadata["date"] == "2024-03-04"
    assert "The ministry said on Monday that it would spend $5 billion on roads over ten years." in text
    assert "Item one of the plan" in text and "Year: 2025; Spend: $1 billion" in text
    assert "Home" not in text and "Copyright" not in text and not MARKUP.search(text)


def test_a_page_without_a_declared_date_gets_none():
    """No date guessed from a copyright year."""
    metadata, text = html_document("<html><body><p>Short text.</p><footer>Copyright 2025</footer></body></html>")
    assert "date" not in metadata and "Short text." in text
