#include "cli/secret_input.hpp"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "common/file.hpp"

namespace zt::cli {
namespace {

std::string first_line(std::string text) {
  size_t end = text.find('\n');
  if (end != std::string::npos) text.resize(end);
  if (!text.empty() && text.back() == '\r') text.pop_back();
  return text;
}

// Reads a line from the terminal on standard input with echo off, restoring the terminal after.
Result<std::string> prompt_without_echo(const std::string& prompt) {
  std::fprintf(stderr, "%s", prompt.c_str());
  std::fflush(stderr);
  termios saved{};
  bool restore = ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (restore) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (restore) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  if (!got) return make_error(Errc::invalid_argument, "no answer at the prompt");
  return first_line(std::move(line));
}

}  // namespace

Result<std::string> read_secret(const SecretSource& source) {
  if (!source.file.empty()) {
    std::filesystem::path path = source.file == "-" ? "/dev/stdin" : source.file;
    ZT_TRY_ASSIGN(std::string text, read_text_file(path, 64 * 1024));
    return first_line(std::move(text));
  }
  if (!source.env.empty()) {
    if (const char* value = std::getenv(source.env.c_str()); value && *value) return value;
  }
  if (::isatty(STDIN_FILENO)) return prompt_without_echo(source.prompt);
  return make_error(Errc::invalid_argument,
                    source.what +
                        " is needed: give --password-file FILE (or - for standard "
                        "input), set " +
                        source.env + ", or run on a terminal to be asked");
}

void add_removed_secret_option(CLI::App& app, const std::string& name, const std::string& advice) {
  auto ignored = std::make_shared<std::string>();  // kept alive by the validator below
  app.add_option(name, *ignored)
      ->check(CLI::Validator([advice, ignored](std::string&) { return advice; }, "", "removed"))
      ->group("");
}

}  // namespace zt::cli
