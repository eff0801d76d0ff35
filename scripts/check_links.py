"""Check every internal link of a built site: the file it points to exists and so does its #anchor.

    python scripts/check_links.py site        # after mkdocs build; exit 1 listing each broken link

mkdocs --strict checks the links written in markdown; this checks what the HTML ends up holding, including
links that hooks, mkdocstrings and the theme generate. External links (http:, mailto:) are not fetched.
"""

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.anchors: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.anchors.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.anchors.add(attrs["name"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def target_file(site: Path, page: Path, url: str) -> Path:
    path = (page.parent / unquote(url)).resolve() if not url.startswith("/") else (site / unquote(url[1:])).resolve()
    return path / "index.html" if path.is_dir() else path


def broken_links(site: str | Path) -> list[str]:
    site = Path(site).resolve()
    pages = {p: parse(p) for p in site.rglob("*.html")}
    problems = []
    for page, parsed in pages.items():
        for link in parsed.links:
            if urlparse(link).scheme or link.startswith("//"):
                continue  # external: not fetched
            url, anchor = urldefrag(link)
            target = target_file(site, page, url) if url else page
            where = f"{page.relative_to(site)}: {link}"
            if not target.exists():
                problems.append(
                    f"{where} -> no file {target.relative_to(site) if target.is_relative_to(site) else target}"
                )
            elif anchor and target.suffix == ".html":
                anchors = (pages.get(target) or parse(target)).anchors
                if unquote(anchor) not in anchors:
                    problems.append(f"{where} -> no anchor #{anchor} in {target.relative_to(site)}")
    return problems


def main() -> int:
    site = sys.argv[1] if len(sys.argv) > 1 else "site"
    problems = broken_links(site)
    for p in problems:
        print(p)
    print(f"{len(problems)} broken internal links in {site}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
