#!/usr/bin/env python3
"""Writes a valid EPUB 3 of about TARGET_MB megabytes (zip file size) for the import benchmark.

    make_big_epub.py OUT.epub [TARGET_MB] [TEXT_SHARE]

Layout: `mimetype` stored first, META-INF/container.xml, an OPF with manifest and spine, a nav
document, XHTML chapters of varied paragraph text (deflated), and JPEG-typed images of random
(incompressible) bytes (stored). TEXT_SHARE (default 0.5) is the share of the zip's size that
is deflated chapter text; the rest is images. Every chapter stays well under the importer's
64 MiB entry limit and its compression ratio well under 100. The output is deterministic
(fixed seed, fixed timestamps), so every run benchmarks the same file.
"""

import io
import random
import sys
import zipfile

DATE = (2024, 1, 1, 0, 0, 0)
CHAPTER_TEXT_BYTES = 512 * 1024  # uncompressed XHTML text per chapter (about)
IMAGE_BYTES = 512 * 1024
SEED = 20240101

SYLLABLES = (
    "an ar be bo ca ce de di en er es fa fo ga hi in is ka la le li lo ma me mi mo na ne ni no "
    "or pa pe po qu ra re ri ro sa se si so ta te ti to un ur va ve vi wo ya ze"
).split()


def vocabulary(rng, size=6000):
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 4)))))
    return sorted(words)


def sentence_pool(rng, words, count=20000):
    # Zipf-like word frequencies, as in prose; a pool far larger than deflate's 32 KiB window, so
    # the text compresses about as well as real prose does (roughly 3:1), not like a repeated
    # block.
    weights = [1.0 / (rank + 1) for rank in range(len(words))]
    pool = []
    for _ in range(count):
        n = rng.randint(6, 24)
        picked = rng.choices(words, weights=weights, k=n)
        text = " ".join(picked)
        pool.append(text[0].upper() + text[1:] + rng.choice((".", ".", ".", "?", "!", ";")))
    return pool


def chapter_xhtml(rng, pool, number, target):
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" '
        'lang="en" xml:lang="en">\n'
        f"<head><title>Chapter {number}</title>"
        '<link rel="stylesheet" type="text/css" href="../style.css"/></head>\n'
        f'<body><section epub:type="chapter" id="ch{number}">\n<h1>Chapter {number}</h1>\n'
    ]
    size = sum(len(p) for p in parts)
    paragraph = 0
    while size < target:
        paragraph += 1
        sentences = rng.sample(pool, rng.randint(2, 9))
        if paragraph % 7 == 0:
            sentences[0] = f"<em>{sentences[0]}</em>"
        if paragraph % 11 == 0:
            sentences[-1] = f'<a href="#ch{number}">{sentences[-1]}</a>'
        tag = "blockquote><p" if paragraph % 23 == 0 else "p"
        close = "p></blockquote" if paragraph % 23 == 0 else "p"
        line = f"<{tag}>{' '.join(sentences)}</{close}>\n"
        if paragraph % 40 == 0:
            line = f"<h2>Section {paragraph // 40}</h2>\n" + line
        parts.append(line)
        size += len(line)
    parts.append("</section></body>\n</html>\n")
    return "".join(parts).encode("utf-8")


def info(name, compress):
    zi = zipfile.ZipInfo(name, DATE)
    zi.compress_type = compress
    zi.external_attr = 0o644 << 16
    return zi


def main():
    out = sys.argv[1]
    target_mb = float(sys.argv[2]) if len(sys.argv) > 2 else 50.0
    text_share = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
    target = int(target_mb * 1_000_000)
    rng = random.Random(SEED)
    pool = sentence_pool(rng, vocabulary(rng))

    chapters = []  # (name, bytes, compressed size)
    compressed_text = 0
    text_target = target * text_share
    while compressed_text < text_target:
        number = len(chapters) + 1
        data = chapter_xhtml(rng, pool, number, CHAPTER_TEXT_BYTES)
        # Measure the deflated size so the text share of the file is what was asked for.
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as probe:
            probe.writestr(info("x", zipfile.ZIP_DEFLATED), data)
        compressed = probe.infolist()[0].compress_size
        assert len(data) < 64 * 1024 * 1024 and len(data) / compressed < 100
        chapters.append((f"OEBPS/text/ch{number:04d}.xhtml", data))
        compressed_text += compressed

    images = []
    image_total = 0
    while image_total < target - compressed_text - 64 * 1024:
        size = min(IMAGE_BYTES, target - compressed_text - image_total)
        number = len(images) + 1
        # A JPEG start-of-image marker, then noise: the importer stores images as they are.
        data = b"\xff\xd8\xff\xe0" + rng.randbytes(size - 4)
        images.append((f"OEBPS/images/img{number:04d}.jpg", data))
        image_total += size

    manifest = [
        '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>',
        '<item id="css" href="style.css" media-type="text/css"/>',
    ]
    spine = []
    nav = []
    for i, (name, _) in enumerate(chapters, 1):
        href = name.removeprefix("OEBPS/")
        manifest.append(f'<item id="ch{i}" href="{href}" media-type="application/xhtml+xml"/>')
        spine.append(f'<itemref idref="ch{i}"/>')
        nav.append(f'<li><a href="{href}">Chapter {i}</a></li>')
    for i, (name, _) in enumerate(images, 1):
        href = name.removeprefix("OEBPS/")
        props = ' properties="cover-image"' if i == 1 else ""
        manifest.append(f'<item id="img{i}" href="{href}" media-type="image/jpeg"{props}/>')

    opf = f"""<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid" xml:lang="en">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:identifier id="uid">urn:uuid:5c0c6a7e-0000-4000-8000-bench{int(target_mb):07d}</dc:identifier>
<dc:title>Benchmark Book ({target_mb:g} MB)</dc:title>
<dc:creator>Scholia Bench</dc:creator>
<dc:language>en</dc:language>
<meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>
</metadata>
<manifest>
{chr(10).join(manifest)}
</manifest>
<spine>
{chr(10).join(spine)}
</spine>
</package>
"""
    nav_doc = f"""<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="en">
<head><title>Contents</title></head>
<body><nav epub:type="toc" id="toc"><h1>Contents</h1><ol>
{chr(10).join(nav)}
</ol></nav></body>
</html>
"""
    container = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>
"""
    css = "body { font-family: serif; line-height: 1.4 }\nh1, h2 { font-family: sans-serif }\n"

    with zipfile.ZipFile(out, "w") as z:
        z.writestr(info("mimetype", zipfile.ZIP_STORED), b"application/epub+zip")
        z.writestr(info("META-INF/container.xml", zipfile.ZIP_DEFLATED), container)
        z.writestr(info("OEBPS/content.opf", zipfile.ZIP_DEFLATED), opf)
        z.writestr(info("OEBPS/nav.xhtml", zipfile.ZIP_DEFLATED), nav_doc)
        z.writestr(info("OEBPS/style.css", zipfile.ZIP_DEFLATED), css)
        for name, data in chapters:
            z.writestr(info(name, zipfile.ZIP_DEFLATED), data)
        for name, data in images:
            z.writestr(info(name, zipfile.ZIP_STORED), data)

    text_raw = sum(len(d) for _, d in chapters)
    print(
        f"{out}: {len(chapters)} chapters ({text_raw / 1e6:.1f} MB of XHTML, "
        f"{compressed_text / 1e6:.1f} MB deflated), {len(images)} images "
        f"({image_total / 1e6:.1f} MB stored)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
