// The Python runtime's bootstrap script (python_bootstrap.cpp), run as `python3 -B -c <script>`.
#pragma once

namespace zt::cloud::lambda {

// Our own code in the part of AWS's runtime interface client: see the script's opening comment.
extern const char* const kPythonBootstrap;

}  // namespace zt::cloud::lambda
