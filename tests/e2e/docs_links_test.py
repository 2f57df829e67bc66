"""The docs stay true (issue 14).

For README.md and every docs/**/*.md (not docs/notes/, the helpers' notes):
  - every relative Markdown link names a file or folder that exists, and a #anchor names a heading
    of the target page (GitHub's heading ids);
  - in docs/, every fenced command block (```sh, ```bash, ```console) that runs `ztp` names a real
    subcommand path (`$ZTP <sub> [<subsub>…] --help` exits 0, and where a command has subcommands the
    next word is one of them), and every `make <target>` names a target of the Makefile.

It first checks itself: a scratch tree with one of each mistake must report each of them, and the
same tree fixed must report none.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile
import unicodedata

FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
INLINE_LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
COMMAND_LANGUAGES = {"sh", "bash", "console", "shell"}
SHELL_SEPARATORS = {"&&", "||", "|", ";", "&", "(", ")"}


def markdown_files(root):
    files = [os.path.join(root, "README.md")]
    docs = os.path.join(root, "docs")
    for directory, subdirs, names in os.walk(docs):
        if os.path.relpath(directory, docs).split(os.sep)[0] == "notes":
            subdirs[:] = []
            continue
        subdirs.sort()
        files += [os.path.join(directory, n) for n in sorted(names) if n.endswith(".md")]
    return [f for f in files if os.path.isfile(f)]


def split_fences(text):
    """Yields ('text', lines) and ('code', language, lines) blocks, with 1-based line numbers."""
    prose, code, fence, language = [], [], None, ""
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if fence is None and match:
            if prose:
                yield ("text", "", prose)
                prose = []
            fence, language = match.group(1), match.group(2).lower()
        elif fence is not None and line.strip().startswith(fence) and not line.strip()[len(fence):].strip():
            yield ("code", language, code)
            code, fence = [], None
        elif fence is not None:
            code.append((number, line))
        else:
            prose.append((number, line))
    if prose:
        yield ("text", "", prose)
    if code:
        yield ("code", language, code)


def strip_inline_code(line):
    return re.sub(r"(`+)(?:(?!\1).)+?\1", "", line)


def heading_ids(path):
    """GitHub's ids: lower case, punctuation dropped, spaces to '-', repeats get -1, -2, …"""
    seen, ids = {}, set()
    with open(path, encoding="utf-8") as f:
        blocks = list(split_fences(f.read()))
    for block in blocks:
        if block[0] != "text":
            continue
        for _, line in block[2]:
            match = HEADING.match(line)
            if not match:
                continue
            title = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", match.group(2))  # links keep their text
            title = re.sub(r"<[^>]+>", "", title).replace("`", "")
            slug = "".join(c for c in title.lower()
                           if c in " -_" or unicodedata.category(c)[0] in "LN")
            slug = slug.replace(" ", "-")
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            ids.add(slug if count == 0 else "%s-%d" % (slug, count))
    return ids


def check_links(path, root, problems):
    with open(path, encoding="utf-8") as f:
        blocks = list(split_fences(f.read()))
    where = os.path.relpath(path, root)
    for block in blocks:
        if block[0] != "text":
            continue
        for number, line in block[2]:
            plain = strip_inline_code(line)
            targets = INLINE_LINK.findall(plain)
            reference = REFERENCE_LINK.match(plain)
            if reference:
                targets.append(reference.group(1))
            for target in targets:
                if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                    continue  # http:, https:, mailto:, …
                file_part, _, anchor = target.partition("#")
                resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
                if not os.path.exists(resolved):
                    problems.append("%s:%d: link to %s: no such file" % (where, number, target))
                    continue
                if anchor and resolved.endswith(".md") and anchor not in heading_ids(resolved):
                    problems.append("%s:%d: link to %s: no heading #%s in %s"
                                    % (where, number, target, anchor, os.path.relpath(resolved, root)))


def commands_of(language, lines):
    """The shell commands of a fenced block: `$ ` lines of a console block, every line of sh/bash
    (comments dropped, backslash continuations joined)."""
    commands, pending = [], ""
    for number, line in lines:
        if language == "console":
            if pending:
                text = line
            elif line.startswith("$ "):
                text = line[2:]
            else:
                continue
        else:
            text = line
        text = pending + text
        if text.rstrip().endswith("\\"):
            pending = text.rstrip()[:-1] + " "
            continue
        pending = ""
        if text.strip() and not text.lstrip().startswith("#"):
            commands.append((number, text))
    return commands


def words_of(command):
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote in an abridged example: check the plain words
        return command.split()


def simple_commands(command):
    command = command.replace("$(", " ( ")
    current = []
    for word in words_of(command):
        if word in SHELL_SEPARATORS or set(word) <= set("&|;()<>") and word:
            if current:
                yield current
            current = []
        else:
            current.append(word)
    if current:
        yield current


class Ztp:
    def __init__(self, binary):
        self.binary, self.cache = binary, {}

    def help(self, path):
        key = tuple(path)
        if key not in self.cache:
            run = subprocess.run([self.binary, *path, "--help"], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, timeout=30)
            subcommands = []
            if "Subcommands:" in run.stdout:
                for line in run.stdout.split("Subcommands:", 1)[1].splitlines():
                    match = re.match(r"^  (\S+)", line)
                    if match:
                        subcommands.append(match.group(1))
                    elif line.strip() and not line.startswith(" "):
                        break
            self.cache[key] = (run.returncode, subcommands)
        return self.cache[key]

    def check(self, words):
        """words[0] is ztp; returns a problem or None."""
        path, rest = [], words[1:]
        code, subcommands = self.help(path)
        while subcommands:
            while rest and rest[0].startswith("-"):
                option = rest.pop(0)
                if option == "--log-level":
                    rest = rest[1:]
            if not rest:
                return "`ztp %s` needs one of: %s" % (" ".join(path), ", ".join(subcommands))
            word = rest.pop(0)
            if word not in subcommands:
                return "`ztp %s %s`: no such subcommand (there are: %s)" % (
                    " ".join(path), word, ", ".join(subcommands))
            path.append(word)
            code, subcommands = self.help(path)
            if code != 0:
                return "`ztp %s --help` exits %d" % (" ".join(path), code)
        return None


def make_targets(root):
    targets = set()
    with open(os.path.join(root, "Makefile"), encoding="utf-8") as f:
        for line in f:
            match = re.match(r"^([A-Za-z0-9_.%/-][A-Za-z0-9_.%/ -]*):(?!=)", line)
            if match:
                targets.update(match.group(1).split())
    return targets


def check_commands(path, root, ztp, targets, problems):
    with open(path, encoding="utf-8") as f:
        blocks = list(split_fences(f.read()))
    where = os.path.relpath(path, root)
    for block in blocks:
        if block[0] != "code" or block[1] not in COMMAND_LANGUAGES:
            continue
        for number, command in commands_of(block[1], block[2]):
            for words in simple_commands(command):
                while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
                    words = words[1:]  # VAR=value prefixes
                if not words:
                    continue
                program = os.path.basename(words[0])
                if program == "ztp":
                    problem = ztp.check(words)
                    if problem:
                        problems.append("%s:%d: %s" % (where, number, problem))
                elif program == "make":
                    for target in words[1:]:
                        if target.startswith("-") or "=" in target:
                            continue
                        if target not in targets:
                            problems.append("%s:%d: make %s: no such target in the Makefile"
                                            % (where, number, target))


def check_tree(root, ztp):
    problems = []
    targets = make_targets(root)
    for path in markdown_files(root):
        check_links(path, root, problems)
        if os.path.relpath(path, root).startswith("docs" + os.sep):
            check_commands(path, root, ztp, targets, problems)
    return problems


def self_test(ztp):
    """The checker must find a broken link, a broken anchor, a wrong subcommand and a wrong make
    target in a scratch tree, and nothing once they are fixed."""
    def write(root, name, text):
        os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
        with open(os.path.join(root, name), "w", encoding="utf-8") as f:
            f.write(text)

    good_guide = ("# A guide\n\n## Set-up and `ztp ca`\n\nBack to [the start](../README.md#start).\n\n"
                  "```console\n$ ztp ca create-root --dir x && ztp cloud function log --state-dir s\n"
                  "$ make test\n```\n\n```sh\nexport A=1\nZTP_WIFI_PASSWORD=x ztp kit provision \\\n"
                  "    --dir d\n```\n")
    bad_guide = ("# A guide\n\n## Set-up and `ztp ca`\n\nSee [missing](missing.md), [anchor](../README.md#nowhere) and "
                 "[fine](#a-guide).\n\n```console\n$ ztp ca create-rooot\n$ make tset\n```\n\n"
                 "```sh\nztp cloud functions log\n```\n\n```\n$ ztp not-checked (no language)\n```\n")
    with tempfile.TemporaryDirectory(prefix="zt-docs-selftest-") as root:
        write(root, "Makefile", "test: build\n\tctest\nbuild:\n\ttrue\nX := 1\n")
        write(root, "README.md", "# Start\n\nRead [the guide](docs/guide.md#set-up-and-ztp-ca).\n"
                                 "Ignored: `[x](nowhere.md)` and [web](https://example.com/x).\n")
        write(root, "docs/notes/helper.md", "[not checked](nowhere.md)\n")
        write(root, "docs/guide.md", good_guide)
        problems = check_tree(root, ztp)
        assert problems == [], "self-test: a correct tree reported %s" % problems
        write(root, "docs/guide.md", bad_guide)
        problems = check_tree(root, ztp)
        expected = ["missing.md: no such file", "no heading #nowhere",
                    "`ztp ca create-rooot`: no such subcommand",
                    "make tset: no such target", "`ztp cloud functions`: no such subcommand"]
        for each in expected:
            assert any(each in p for p in problems), "self-test: %r not reported in %s" % (each, problems)
        assert len(problems) == len(expected), "self-test: unexpected reports %s" % problems
    print("ok: the checker finds broken links, anchors, subcommands and make targets")


def main():
    root = os.environ["ZT_SOURCE_DIR"]
    ztp = Ztp(os.environ["ZTP"])
    self_test(ztp)
    problems = check_tree(root, ztp)
    for problem in problems:
        print("FAIL", problem)
    if problems:
        return 1
    print("ok: %d Markdown files: links, anchors, ztp commands and make targets"
          % len(markdown_files(root)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
