"""Write the dashboards' JSON: `python -m grafana.build` (or `--check` to fail when the committed
JSON is not what the code generates). Needs the dev requirements (grafana-foundation-sdk)."""

from __future__ import annotations

import argparse
import json
import string
import sys
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from grafana import asset, fleet, health

DASHBOARDS_DIR = Path(__file__).resolve().parent / "dashboards"
BUILDERS = (fleet.build, asset.build, health.build)


def finish(dashboard: dict[str, Any]) -> dict[str, Any]:
    """Number the panels 1..n in grid order and name each panel's queries A, B, C..."""
    for number, panel in enumerate(dashboard["panels"], start=1):
        panel["id"] = number
        for letter, target in zip(string.ascii_uppercase, panel.get("targets", []), strict=False):
            target["refId"] = letter
    return dashboard


def generate() -> dict[str, str]:
    """File name → JSON text of every dashboard."""
    files = {}
    for build in BUILDERS:
        dashboard = finish(json.loads(JSONEncoder().encode(build().build())))
        files[f"{dashboard['uid']}.json"] = json.dumps(dashboard, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return files


def stale_files(directory: Path = DASHBOARDS_DIR) -> list[str]:
    """Dashboards whose committed JSON differs from what the code generates (or that are missing)."""
    return [name for name, text in generate().items()
            if not (directory / name).exists() or (directory / name).read_text() != text]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only compare with the committed JSON")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for name in stale:
            print(f"grafana/dashboards/{name} is out of date: run python -m grafana.build", file=sys.stderr)
        return 1 if stale else 0
    DASHBOARDS_DIR.mkdir(exist_ok=True)
    for name, text in generate().items():
        (DASHBOARDS_DIR / name).write_text(text)
        print(f"wrote grafana/dashboards/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
