#!/usr/bin/python3
"""The layer check on small trees (ctest layers.self_test): it passes on a clean tree and fails, naming
file:line, the include and the rule, on an include that points up the list, one between layers kept
apart, one of a file no layer owns, and a broken layer file; `--cmake` writes the list for CMake."""

import os
import subprocess
import sys
import tempfile
import unittest

CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_layers.py")

LAYERS = """\
layer base        base/
layer left        cloud/left/
layer right       cloud/right/
layer top/inner   top/inner/
layer top/files   top/files.* top/more.*
layer app         app/
also  base        top/inner/legacy.*
apart left right
apart left top/*
"""

CLEAN = {
    "base/util.hpp": "#pragma once\n",
    "base/util.cpp": '#include "base/util.hpp"\n#include <vector>\n',
    "cloud/left/left.hpp": '#pragma once\n#include "base/util.hpp"\n',
    "cloud/right/right.cpp": '#include "base/util.hpp"\n',
    "top/inner/inner.hpp": '#include "base/util.hpp"\n',
    "top/inner/legacy.hpp": "#pragma once\n",
    "top/files.cpp": '#include "top/inner/inner.hpp"\n#include "top/files.hpp"\n',
    "top/files.hpp": '#include "cloud/right/right.cpp"\n',
    "app/main.cpp": '#include "cloud/left/left.hpp"\n#include "top/files.hpp"\n#include "util.hpp"\n',
    "app/util.hpp": "#pragma once\n",
}


class CheckLayersTest(unittest.TestCase):
    def tree(self, files, layers=LAYERS):
        root = tempfile.mkdtemp(prefix="zt-layers-")
        self.addCleanup(subprocess.run, ["rm", "-rf", root], check=True)
        os.makedirs(os.path.join(root, "src"))
        with open(os.path.join(root, "src", "LAYERS"), "w", encoding="utf-8") as f:
            f.write(layers)
        for name, text in files.items():
            path = os.path.join(root, "src", name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return root

    def check(self, root, *extra):
        run = subprocess.run([sys.executable, CHECK, "--root", root, *extra],
                             capture_output=True, text=True, check=False)
        return run.returncode, run.stdout + run.stderr

    def with_line(self, name, line):
        files = dict(CLEAN)
        files[name] = files[name] + line
        return files

    def test_a_clean_tree_passes(self):
        code, output = self.check(self.tree(CLEAN))
        self.assertEqual(code, 0, output)
        self.assertIn("every include points down", output)

    def test_an_upward_include_fails_with_file_line_and_rule(self):
        files = self.with_line("base/util.cpp", '#include "app/util.hpp"\n')
        code, output = self.check(self.tree(files))
        self.assertEqual(code, 1, output)
        self.assertIn('src/base/util.cpp:3: #include "app/util.hpp": base may not use app: '
                      "it is above base in src/LAYERS", output)

    def test_an_include_between_siblings_kept_apart_fails(self):
        # left is listed before right, so right → left points down: only `apart left right` forbids it.
        files = self.with_line("cloud/right/right.cpp", '#include "cloud/left/left.hpp"\n')
        code, output = self.check(self.tree(files))
        self.assertEqual(code, 1, output)
        self.assertIn('src/cloud/right/right.cpp:2: #include "cloud/left/left.hpp": right may not '
                      "use left: src/LAYERS keeps them apart", output)

    def test_a_wildcard_apart_covers_every_matching_layer_but_not_within_them(self):
        files = self.with_line("top/files.cpp", '#include "cloud/left/left.hpp"\n')
        code, output = self.check(self.tree(files))
        self.assertEqual(code, 1, output)
        self.assertIn("top/files may not use left: src/LAYERS keeps them apart", output)
        # top/files → top/inner (both under top/*) is allowed: the clean tree has it.

    def test_a_pattern_beats_its_directory(self):
        # top/inner/legacy.hpp belongs to base (`also`), so base may include it; inner.hpp stays up.
        files = self.with_line("base/util.cpp", '#include "top/inner/legacy.hpp"\n')
        self.assertEqual(self.check(self.tree(files))[0], 0)
        files = self.with_line("base/util.cpp", '#include "top/inner/inner.hpp"\n')
        code, output = self.check(self.tree(files))
        self.assertEqual(code, 1, output)
        self.assertIn("base may not use top/inner", output)

    def test_a_relative_include_is_resolved_like_the_compiler(self):
        files = self.with_line("base/util.cpp", '#include "../app/util.hpp"\n')
        code, output = self.check(self.tree(files))
        self.assertEqual(code, 1, output)
        self.assertIn("base may not use app", output)

    def test_a_file_no_layer_owns_and_an_unknown_header_fail(self):
        files = dict(CLEAN)
        files["stray/thing.cpp"] = '#include "base/util.hpp"\n'
        files["app/main.cpp"] += '#include "base/missing.hpp"\n'
        code, output = self.check(self.tree(files))
        self.assertEqual(code, 1, output)
        self.assertIn("src/stray/thing.cpp: belongs to no layer", output)
        self.assertIn('src/app/main.cpp:4: #include "base/missing.hpp": names no file of src/', output)

    def test_a_broken_layer_file_is_an_error(self):
        for layers in ("layer base\n", "layer base base/\nlayer base app/\n", "also nowhere app/\n",
                       "layer base base/\napart base nowhere\n", "floor base base/\n"):
            code, output = self.check(self.tree(CLEAN, layers))
            self.assertEqual(code, 2, (layers, output))
            self.assertIn("LAYERS:", output)

    def test_cmake_output_lists_layers_files_and_what_each_may_link(self):
        root = self.tree(CLEAN)
        out = os.path.join(root, "layers.cmake")
        code, output = self.check(root, "--cmake", out)
        self.assertEqual(code, 0, output)
        with open(out, encoding="utf-8") as f:
            text = f.read()
        self.assertIn('set(ZT_LAYERS "base;left;right;top_inner;top_files;app")', text)
        self.assertIn('set(ZT_LAYER_FILES_base "base/util.cpp;base/util.hpp;top/inner/legacy.hpp")',
                      text)
        self.assertIn('set(ZT_LAYER_MAY_LINK_right "base")', text)
        self.assertIn('set(ZT_LAYER_MAY_LINK_top_files "base;right;top_inner")', text)


if __name__ == "__main__":
    unittest.main()
