"""Helpers shared by the `render_text` and `speakable` management commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def read_text_arg(source: str) -> str:
    """Text from a file path, or from stdin when ``source`` is '-'."""
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"Không tìm thấy tệp văn bản: {source}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"Tệp {source} không phải văn bản UTF-8.") from None


def load_lexicon_file(path_str: str) -> dict[str, str]:
    """A lexicon file: a JSON object {term: spoken}, or lines `term<TAB>spoken` / `term = spoken`.

    Lines starting with # are comments. Terms are case-sensitive.
    """
    path = Path(path_str)
    if not path.is_file():
        raise ValueError(f"Không tìm thấy tệp từ điển phát âm: {path_str}")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"Tệp từ điển {path_str} không phải JSON hợp lệ: {exc}") from None
        if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            raise ValueError(f"Tệp từ điển {path_str} phải là một đối tượng JSON {{từ: cách đọc}}.")
        return data
    lexicon: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        sep = "\t" if "\t" in line else "=" if "=" in line else None
        if sep is None:
            raise ValueError(f"Tệp từ điển {path_str}, dòng {number}: cần dạng 'từ = cách đọc'.")
        term, spoken = (part.strip() for part in line.split(sep, 1))
        if not term or not spoken:
            raise ValueError(f"Tệp từ điển {path_str}, dòng {number}: thiếu từ hoặc cách đọc.")
        lexicon[term] = spoken
    return lexicon
