"""Rewrites the README's metric index from the registry (``jaxmetrics._src.registry.metric_table``).

    python scripts/update_readme_table.py          # rewrite README.md in place
    python scripts/update_readme_table.py --check  # exit 1 if the README is out of date

``tests/test_readme.py`` runs the check, so registering a metric without updating the README fails CI.
"""

from __future__ import annotations

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- metric-table:begin -->", "<!-- metric-table:end -->"


def render(readme: str) -> str:
    """``readme`` with the block between the two markers replaced by the registry's table."""
    import jaxmetrics  # noqa: F401  (importing the families fills the registry)
    from jaxmetrics._src.registry import metric_table

    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise SystemExit(f"README.md has no {BEGIN} ... {END} block")
    return pattern.sub(lambda _: f"{BEGIN}\n{metric_table()}\n{END}", readme)


def main(argv: list[str]) -> int:
    path = ROOT / "README.md"
    readme = path.read_text()
    updated = render(readme)
    if "--check" in argv:
        if updated != readme:
            print("README.md metric table is out of date: run python scripts/update_readme_table.py")
            return 1
        return 0
    path.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
