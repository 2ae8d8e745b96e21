import json

from app.corpus import document_id, load_corpora, load_corpus


def write(path, content, mode="w"):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def minimal_pdf(pages: list[str], info: str | None = None) -> bytes:
    """A small valid PDF with one line of text per page (no PDF writer dependency needed); `info` is
    the body of its /Info dictionary ("/Title (T) /Author (A)")."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET"
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
        content_ref = len(objects)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_ref} 0 R "
                       "/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>"
    if info:
        objects.append(f"<< {info} >>")
    out, offsets = "%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out.encode("latin-1")))
        out += f"{number} 0 obj\n{body}\nendobj\n"
    xref = len(out.encode("latin-1"))
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n" + "".join(f"{o:010d} 00000 n \n" for o in offsets)
    trailer_info = f" /Info {len(objects)} 0 R" if info else ""
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{trailer_info} >>\nstartxref\n{xref}\n%%EOF\n"
    return out.encode("latin-1")


def test_formats_and_metadata_precedence(tmp_path):
    write(tmp_path / "plain.txt", "Plain text about Huawei.")
    write(tmp_path / "notes" / "fm.md", "---\ntitle: Front Title\ndate: 2025-07-23\nsource_url: https://example.org/a\n---\nBody text.")
    write(tmp_path / "page.html", "<html><head><title>T</title><script>var x=1;</script></head>"
                                  "<body><p>Visible words.</p><style>.a{}</style></body></html>")
    write(tmp_path / "report.pdf", minimal_pdf(["First page text", "Second page text"]))
    write(tmp_path / "SOURCES.json", json.dumps([{"file": "plain.txt", "title": "From Sources", "publisher": "Pub",
                                                 "date": "2024-01-02", "url": None, "kind": "news article"}]))
    write(tmp_path / "README.md", "# about this folder")
    result = load_corpus(tmp_path)
    docs = {d.doc_id: d for d in result.documents}
    assert set(docs) == {"plain", "notes/fm", "page", "report"}
    assert docs["plain"].metadata["title"] == "From Sources"
    assert docs["plain"].metadata["publisher"] == "Pub"
    assert docs["notes/fm"].metadata["date"] == "2025-07-23"
    assert docs["notes/fm"].metadata["url"] == "https://example.org/a"
    assert docs["notes/fm"].metadata["publisher"] == "example.org"
    assert docs["notes/fm"].text == "Body text."
    assert docs["page"].text == "Visible words."
    assert docs["page"].metadata["title"] == "T"
    assert "First page text" in docs["report"].text and "Second page text" in docs["report"].text
    assert docs["report"].page_at(docs["report"].text.index("Second")) == 2
    assert docs["report"].metadata["title"] == "report"
    assert result.warnings == []


def test_unreadable_files_are_warned_and_skipped(tmp_path):
    write(tmp_path / "good.txt", "A readable document.")
    write(tmp_path / "corrupt.pdf", b"%PDF-1.4 this is not really a pdf")
    write(tmp_path / "binary.txt", b"\x00\x01\x02binary")
    write(tmp_path / "latin.txt", "caf\xe9".encode("latin-1"))
    write(tmp_path / "empty.md", "")
    write(tmp_path / "zero.txt", b"")
    with open(tmp_path / "huge.txt", "wb") as huge:  # 50 MB, sparse: skipped by size before any read
        huge.truncate(50_000_000)
    outside = write(tmp_path.parent / f"{tmp_path.name}-outside.txt", "secret")
    (tmp_path / "link.txt").symlink_to(outside)
    write(tmp_path.parent / f"{tmp_path.name}-outside-dir" / "hidden.txt", "secret too")
    (tmp_path / "linked-dir").symlink_to(tmp_path.parent / f"{tmp_path.name}-outside-dir")
    result = load_corpus(tmp_path)
    assert [d.doc_id for d in result.documents] == ["good"]
    skipped = " ".join(result.warnings)
    for name in ("corrupt.pdf", "binary.txt", "latin.txt", "empty.md", "zero.txt", "link.txt"):
        assert name in skipped
    assert "huge.txt: larger than 20,000,000 bytes" in skipped
    assert len(result.warnings) == 7  # the linked folder is not walked at all


def test_document_id_is_relative_path_without_extension(tmp_path):
    assert document_id(tmp_path / "fact-sheets" / "2025-07" / "a.b.md", tmp_path) == "fact-sheets/2025-07/a.b"


def test_the_same_text_under_two_names_is_loaded_once(tmp_path):
    write(tmp_path / "a" / "report.txt", "Huawei opened a cloud region in Egypt.")
    write(tmp_path / "b" / "report-copy.md", "Huawei opened a cloud region in Egypt.")
    write(tmp_path / "c" / "other.txt", "Huawei opened a cloud region in Kenya.")
    result = load_corpora([tmp_path / "a", tmp_path / "b", tmp_path / "c"])
    assert [d.doc_id for d in result.documents] == ["report", "other"]
    assert result.warnings == ["skipped report-copy: same text as report"]


def test_documents_are_read_as_their_readable_text_with_their_own_metadata(tmp_path):
    """Markdown is rendered, HTML reduced to its main content, and a PDF's /Title, /Author and
    creation date describe it when SOURCES.json and front matter say nothing."""
    write(tmp_path / "note.md", "---\ntitle: Note\n---\nThe **tariff** is [25 percent](https://x.gov/2025/05/12/a).")
    write(tmp_path / "page.html", "<html><head><title>Page</title><meta name='author' content='Jane Doe'>"
                                  "<meta name='description' content='About tariffs'></head><body><nav>Home | Menu</nav>"
                                  "<article><p>The ministry said it would spend five billion dollars on new roads "
                                  "across the country over the next decade.</p></article><footer>Contact us</footer>"
                                  "</body></html>")
    write(tmp_path / "report.pdf", minimal_pdf(["Text"], info="/Title (Annual Report) /Author (GAO) "
                                                               "/CreationDate (D:20240301120000Z)"))
    docs = {d.doc_id: d for d in load_corpus(tmp_path).documents}
    assert docs["note"].text == "The tariff is 25 percent."
    assert "Home" not in docs["page"].text and "Contact" not in docs["page"].text
    assert docs["page"].text.startswith("The ministry said")
    assert docs["page"].metadata["author"] == "Jane Doe" and docs["page"].metadata["description"] == "About tariffs"
    assert docs["report"].metadata["title"] == "Annual Report"
    assert docs["report"].metadata["author"] == "GAO" and docs["report"].metadata["date"] == "2024-03-01"


def test_an_edited_sources_json_is_read_again_by_the_same_process(tmp_path):
    write(tmp_path / "a.txt", "Huawei built a data center in Algeria.")
    write(tmp_path / "SOURCES.json", json.dumps([{"file": "a.txt", "publisher": "First"}]))
    assert load_corpus(tmp_path).documents[0].metadata["publisher"] == "First"
    write(tmp_path / "SOURCES.json", json.dumps([{"file": "a.txt", "publisher": "Second one"}]))
    assert load_corpus(tmp_path).documents[0].metadata["publisher"] == "Second one"
