"""Hostile corpus files, as the security review built them (issue 27): small on disk, huge or
endless to read. For the loader limits' tests and benchmarks; each function writes one file.

- `docx_bomb`: a .docx of well under 1 MB whose document.xml expands to `xml_mb` MB.
- `pdf_shared_stream`: a PDF whose `pages` pages all use one compressed content stream of
  `stream_mb` MB of text commands (each page re-reads it).
- `pdf_page_tree_repeat`: a few-KB PDF whose page tree lists one node `fanout` times, each
  listing one page `fanout` times (fanout**2 pages: 99,225 for 315).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF with `objects` as objects 1..n (object 1 the catalog) and a correct xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
              .encode())
    return out.getvalue()


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _stream(data: bytes, compress: bool = True) -> bytes:
    if compress:
        data = zlib.compress(data, 9)
        return f"<< /Length {len(data)} /Filter /FlateDecode >>\nstream\n".encode() + data + \
            b"\nendstream"
    return f"<< /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


def pdf_shared_stream(path: Path, pages: int = 200, stream_mb: float = 25.0) -> Path:
    line = b"BT /F1 9 Tf 72 700 Td (Harbour trade grew again this year.) Tj ET\n"
    content = line * int(stream_mb * 1e6 / len(line))
    # 1 catalog, 2 pages, 3 font, 4 the shared stream, 5.. the pages
    kids = " ".join(f"{5 + i} 0 R" for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(), _FONT,
               _stream(content)]
    for _ in range(pages):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>")
    path.write_bytes(_pdf(objects))
    return path


def pdf_page_tree_repeat(path: Path, fanout: int = 315) -> Path:
    # 1 catalog, 2 root pages node, 3 inner pages node, 4 the page, 5 font, 6 its content
    root_kids = " ".join(["3 0 R"] * fanout)
    inner_kids = " ".join(["4 0 R"] * fanout)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{root_kids}] /Count {fanout * fanout} >>".encode(),
               f"<< /Type /Pages /Parent 2 0 R /Kids [{inner_kids}] /Count {fanout} >>".encode(),
               b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] "
               b"/Resources << /Font << /F1 5 0 R >> >> /Contents 6 0 R >>",
               _FONT,
               _stream(b"BT /F1 12 Tf 72 700 Td (The same page again and again.) Tj ET\n",
                       compress=False)]
    path.write_bytes(_pdf(objects))
    return path


def docx_bomb(path: Path, xml_mb: float = 200.0) -> Path:
    """A real .docx (python-docx's template) whose body is `xml_mb` MB of short paragraphs."""
    import docx

    buf = io.BytesIO()
    docx.Document().save(buf)
    para = b"<w:p><w:r><w:t>Harbour trade grew again this year.</w:t></w:r></w:p>"
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
            b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
    tail = b"</w:body></w:document>"
    block = para * 10_000
    blocks = int(xml_mb * 1e6 / len(block)) + 1
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED,
                                                      compresslevel=9) as dst:
        for info in src.infolist():
            if info.filename == "word/document.xml":
                member = zipfile.ZipInfo("word/document.xml")
                member.compress_type = zipfile.ZIP_DEFLATED
                with dst.open(member, "w", force_zip64=True) as f:
                    f.write(head)
                    for _ in range(blocks):
                        f.write(block)
                    f.write(tail)
            else:
                dst.writestr(info, src.read(info.filename))
    return path
