"""docs/changes.md is what the real providers say today: regenerated from previews, it must equal the committed
file. `hubctl changes` itself refuses to write a table unless a preview of the unchanged config shows no change,
before and after the changes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
TABLE = PROJECT_DIR / "docs" / "changes.md"


def test_change_table_is_current(tmp_path: Path) -> None:
    out = tmp_path / "changes.md"
    result = subprocess.run([sys.executable, "-m", "hubctl", "changes", "--out", str(out)], cwd=PROJECT_DIR,
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout + result.stderr
    assert out.read_text() == TABLE.read_text(), (
        "docs/changes.md is stale: run `make changes` and read its diff (`git diff docs/changes.md`)"
    )
