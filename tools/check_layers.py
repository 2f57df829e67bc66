#!/usr/bin/python3
"""The layer check: every #include "..." in src/ points down src/LAYERS (or within its own layer)
and never between layers kept apart. Prints file:line, the include and the rule it breaks; exits 1
on any. `--cmake OUT` writes the layer list and each layer's files for CMake instead (the build
reads the same file through this one parser).

    tools/check_layers.py [--root DIR] [--cmake OUT]

The file's grammar is described at the top of src/LAYERS."""

import argparse
import os
import re
import sys
from dataclasses import dataclass, field

SOURCE_SUFFIXES = (".cpp", ".hpp", ".h")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


class LayerFileError(Exception):
    pass


@dataclass
class Layers:
    names: list = field(default_factory=list)  # bottom first
    paths: list = field(default_factory=list)  # (layer, path as written)
    apart: list = field(default_factory=list)  # groups: lists of members, each a set of layer names

    def index(self, name):
        return self.names.index(name)

    def owner(self, relative):
        """The layer owning src/<relative>: the most specific path that matches it."""
        best, best_rank = None, None
        for layer, path in self.paths:
            if path.endswith("/"):
                rank = (0, len(path)) if relative.startswith(path) else None
            else:
                pattern = "".join("[^/]*" if c == "*" else re.escape(c) for c in path)
                rank = (1, len(path)) if re.fullmatch(pattern, relative) else None
            if rank is not None and (best_rank is None or rank > best_rank):
                best, best_rank = layer, rank
        return best

    def kept_apart(self, a, b):
        return any(any(a in m for m in group) and any(b in m for m in group) and
                   not any(a in m and b in m for m in group) for group in self.apart)

    def may_use(self, user, used):
        """None if `user` may include or link `used`, else the rule it breaks."""
        if user == used:
            return None
        if self.index(used) > self.index(user):
            return f"{user} may not use {used}: it is above {user} in src/LAYERS"
        if self.kept_apart(user, used):
            return f"{user} may not use {used}: src/LAYERS keeps them apart"
        return None


def parse_layers(path):
    layers = Layers()
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            keyword, arguments = words[0], words[1:]
            where = f"{path}:{number}"
            if keyword in ("layer", "also") and len(arguments) < 2:
                raise LayerFileError(f"{where}: `{keyword}` needs a name and at least one path")
            if keyword == "layer":
                if arguments[0] in layers.names:
                    raise LayerFileError(f"{where}: layer {arguments[0]} is listed twice")
                layers.names.append(arguments[0])
            elif keyword == "also":
                if arguments[0] not in layers.names:
                    raise LayerFileError(f"{where}: `also` names {arguments[0]}, not a layer above")
            elif keyword == "apart":
                group = []
                for name in arguments:
                    matches = ([n for n in layers.names if n.startswith(name[:-1])]
                               if name.endswith("/*") else [n for n in layers.names if n == name])
                    if not matches:
                        raise LayerFileError(f"{where}: `apart` names {name}, not a layer above")
                    group.append(set(matches))
                layers.apart.append(group)
                continue
            else:
                raise LayerFileError(f"{where}: unknown keyword {keyword} (layer, also, apart)")
            for p in arguments[1:]:
                if p.startswith("/") or ".." in p.split("/"):
                    raise LayerFileError(f"{where}: {p} is not a path inside src/")
                layers.paths.append((arguments[0], p))
    if not layers.names:
        raise LayerFileError(f"{path}: no layers")
    return layers


def source_files(src):
    for directory, subdirectories, files in os.walk(src):
        subdirectories.sort()
        for name in sorted(files):
            if name.endswith(SOURCE_SUFFIXES):
                yield os.path.relpath(os.path.join(directory, name), src).replace(os.sep, "/")


def ownership(layers, src):
    """{file: layer} for every source file of src/, and the files no layer owns."""
    owned, orphans = {}, []
    for relative in source_files(src):
        layer = layers.owner(relative)
        if layer is None:
            orphans.append(relative)
        else:
            owned[relative] = layer
    return owned, orphans


def resolve(src, relative, include):
    """The file of src/ an include names: beside the including file first, as the compiler looks."""
    beside = os.path.normpath(os.path.join(os.path.dirname(relative), include))
    for candidate in (beside, os.path.normpath(include)):
        if not candidate.startswith("..") and os.path.isfile(os.path.join(src, candidate)):
            return candidate.replace(os.sep, "/")
    return None


def violations(layers, src, owned):
    for relative, user in owned.items():
        with open(os.path.join(src, relative), encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                match = INCLUDE.match(line)
                if not match:
                    continue
                include = match.group(1)
                where = f"src/{relative}:{number}: #include \"{include}\""
                target = resolve(src, relative, include)
                if target is None:
                    yield f"{where}: names no file of src/"
                    continue
                used = owned.get(target)
                if used is None:
                    yield f"{where}: src/{target} belongs to no layer"
                    continue
                broken = layers.may_use(user, used)
                if broken:
                    yield f"{where}: {broken}"


def cmake_list(items):
    return '"' + ";".join(items) + '"'


def write_cmake(layers, owned, out):
    """ZT_LAYERS (bottom first), and per layer id (name with "/" → "_"): ZT_LAYER_NAME_<id>,
    ZT_LAYER_FILES_<id> (its files, relative to src/) and ZT_LAYER_MAY_LINK_<id> (the ids below it
    that it is not kept apart from)."""
    ids = {name: name.replace("/", "_") for name in layers.names}
    lines = ["# Written by tools/check_layers.py from src/LAYERS; do not edit.",
             f"set(ZT_LAYERS {cmake_list(ids[n] for n in layers.names)})"]
    for name in layers.names:
        files = [f for f, layer in owned.items() if layer == name]
        allowed = [ids[other] for other in layers.names
                   if other != name and layers.may_use(name, other) is None]
        lines += [f"set(ZT_LAYER_NAME_{ids[name]} \"{name}\")",
                  f"set(ZT_LAYER_FILES_{ids[name]} {cmake_list(files)})",
                  f"set(ZT_LAYER_MAY_LINK_{ids[name]} {cmake_list(allowed)})"]
    text = "\n".join(lines) + "\n"
    # Rewritten only when it changes, so an unchanged layout does not touch the build.
    if not os.path.exists(out) or open(out, encoding="utf-8").read() != text:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        help="the source tree (default: this checkout)")
    parser.add_argument("--cmake", metavar="OUT", help="write the layers for CMake to OUT")
    options = parser.parse_args()
    src = os.path.join(options.root, "src")
    try:
        layers = parse_layers(os.path.join(src, "LAYERS"))
    except (LayerFileError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    owned, orphans = ownership(layers, src)
    for orphan in orphans:
        print(f"src/{orphan}: belongs to no layer (add its path to src/LAYERS)", file=sys.stderr)
    if options.cmake:
        if orphans:
            return 1
        write_cmake(layers, owned, options.cmake)
        return 0
    problems = list(violations(layers, src, owned))
    for problem in problems:
        print(problem)
    if problems or orphans:
        print(f"{len(problems) + len(orphans)} layer violation(s); the rules are in src/LAYERS",
              file=sys.stderr)
        return 1
    print(f"{len(owned)} files in {len(layers.names)} layers: every include points down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
