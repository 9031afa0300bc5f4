"""Every quote the course attributes to the seed page occurs in the page, word for word.

The page's text is ``shared/seed-page.txt`` beside the repository, and a copy of it is
``tests/data/seed-page.txt``, so every clone checks the quotes. The quotes live in one table,
``labkit.labs.SEED_PAGE_CLAIMS``, which the notebooks render; notebook prose may quote the
page too, and every double-quoted string in a paragraph that names the page ("seed page",
"public page"), or in a block quote right after such a paragraph, is checked the same way.
"""

import ast
import json
import re
from pathlib import Path

import pytest

from labkit.labs import SEED_PAGE_CLAIMS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NAMES_THE_PAGE = re.compile(r"seed page|public page", re.I)
QUOTED = re.compile(r'"([^"\n]+)"')


# A copy of the page travels with the tests (tests/data/seed-page.txt), so a clone
# checks the quotes too; where the course's shared folder sits beside the checkout,
# the copy must still equal it.
COPY = Path(__file__).resolve().parent / "data" / "seed-page.txt"


def _shared_seed_page() -> Path | None:
    # Path(__file__).parents[2] / "shared" for the main checkout; further up for a worktree.
    for base in Path(__file__).resolve().parents[2:]:
        candidate = base / "shared" / "seed-page.txt"
        if candidate.is_file():
            return candidate
    return None


def _seed_page() -> Path | None:
    return _shared_seed_page() or (COPY if COPY.is_file() else None)


def test_the_copy_is_the_page():
    shared = _shared_seed_page()
    if shared is None:
        pytest.skip("no shared folder beside this checkout: the copy is all there is")
    assert COPY.read_bytes() == shared.read_bytes()


@pytest.fixture(scope="module")
def page() -> str:
    path = _seed_page()
    if path is None:
        pytest.skip("shared/seed-page.txt is not beside this checkout: nothing to compare the quotes with")
    return path.read_text(encoding="utf-8")


def _paragraphs(markdown: str) -> list[str]:
    # Lines of one paragraph wrap at spaces: join them back with one.
    return [" ".join(p.split("\n")) for p in re.split(r"\n\s*\n", markdown)]


def _markdown(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def _attributed_quotes(text: str) -> list[str]:
    """Quotes in a paragraph that names the page, or in a block quote right after one."""
    paras = _paragraphs(text)
    return [q for i, para in enumerate(paras)
            if NAMES_THE_PAGE.search(para)
            or (para.lstrip().startswith(">") and i and NAMES_THE_PAGE.search(paras[i - 1]))
            for q in QUOTED.findall(para)]


def test_every_claim_quotes_the_page_verbatim(page):
    assert len({c.quote for c in SEED_PAGE_CLAIMS}) == len(SEED_PAGE_CLAIMS)
    for claim in SEED_PAGE_CLAIMS:
        assert "\n" not in claim.quote
        assert claim.quote in page, f"not in the seed page, word for word: {claim.quote!r}"
        assert claim.correction and claim.source and claim.notebook in ("02", "03")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_prose_quotes_the_page_verbatim(page, path):
    wrong = [q for q in _attributed_quotes(_markdown(path)) if q not in page]
    assert not wrong, f"{path.name} attributes to the seed page words it does not say: {wrong}"


def test_the_seed_page_module_quotes_the_page_verbatim(page):
    module = ROOT / "labkit" / "labs" / "_seedpage.py"
    doc = ast.get_docstring(ast.parse(module.read_text(encoding="utf-8"))) or ""
    quotes = QUOTED.findall(" ".join(doc.split()))
    assert quotes, "the module docstring names the page's sections and headings"
    assert [q for q in quotes if q not in page] == []


def test_notebook_03_quotes_only_what_the_table_holds(page):
    table = {c.quote for c in SEED_PAGE_CLAIMS}
    quotes = _attributed_quotes(_markdown(ROOT / "notebooks" / "03-retry-and-backoff.ipynb"))
    assert quotes, "notebook 03 quotes the page where it corrects it"
    assert [q for q in quotes if q not in table] == []
