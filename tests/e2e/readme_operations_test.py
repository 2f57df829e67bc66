"""README.md's table of implemented operations is `ztp cloud operations`' output, byte for byte: the table is
generated from the routers the cloud serves with, so an operation added or removed without regenerating the table
fails here. To regenerate: python3 tests/e2e/readme_operations_test.py --write (with ZTP set)."""
import os
import re
import subprocess
import sys

BEGIN = "<!-- operations:begin (generated: ztp cloud operations) -->\n"
END = "<!-- operations:end -->"


def main():
    ztp = os.environ.get("ZTP") or os.path.join(os.environ.get("ZT_BINARY_DIR", "build"), "bin", "ztp")
    readme_path = os.path.join(os.environ.get("ZT_SOURCE_DIR", "."), "README.md")
    table = subprocess.run([ztp, "cloud", "operations"], check=True, capture_output=True, text=True,
                           timeout=60).stdout
    rows = [line for line in table.splitlines()[2:] if line.startswith("| ")]
    if len(rows) < 50 or not all(re.match(r"^\| (iot|iot-data|lambda|iam) \| \w+ \| `", r) for r in rows):
        print("FAIL - `ztp cloud operations` printed no table of operations:\n" + table[:2000])
        sys.exit(1)
    with open(readme_path) as f:
        readme = f.read()
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        print("FAIL - README.md has no operations markers")
        sys.exit(1)
    current = readme[start + len(BEGIN):end]
    if "--write" in sys.argv:
        with open(readme_path, "w") as f:
            f.write(readme[:start + len(BEGIN)] + table + readme[end:])
        print("README.md's table rewritten (%d operations)" % len(rows))
        return
    if current != table:
        import difflib
        print("FAIL - README.md's table of operations differs from `ztp cloud operations` (regenerate with "
              "`ZTP=build/bin/ztp python3 tests/e2e/readme_operations_test.py --write`):")
        sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), table.splitlines(True),
                                                   "README.md", "ztp cloud operations"))
        sys.exit(1)
    print("ok   - README.md's table matches `ztp cloud operations` (%d operations)" % len(rows))


if __name__ == "__main__":
    main()
