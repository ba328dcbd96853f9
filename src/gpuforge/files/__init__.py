"""Reading and writing files without trusting them: the lowest layer, used by every other.

read_text()        a regular file only, size-capped, strict UTF-8, no NUL bytes (never blocks)
check_yaml()       YAML composed, not constructed: no alias bombs, no Python or local tags
load_yaml()        check_yaml() then plain data; load_json() likewise for JSON
write_atomic()     temp file + fsync + rename, optionally keeping `<name>.bak`
read_recovering()  the main file, else its `.bak` with a warning
"""

from gpuforge.files._read import MIB, not_regular, position_of, read_text
from gpuforge.files._write import backup_path, disk_full, read_recovering, write_atomic
from gpuforge.files._yaml import ALIAS_BUDGET, check_yaml, load_json, load_yaml

__all__ = [
    "ALIAS_BUDGET",
    "MIB",
    "backup_path",
    "check_yaml",
    "disk_full",
    "load_json",
    "load_yaml",
    "not_regular",
    "position_of",
    "read_recovering",
    "read_text",
    "write_atomic",
]
