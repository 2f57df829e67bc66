// SearchIndex's latency at 10,000 and 100,000 things (issue 17): the registry's search (the query
// parsed, translated to SQL where SQL can decide, every candidate built into its indexed document
// and matched) for a page of 100, p50 and p99, for queries SQL narrows exactly, narrows to a
// superset, or cannot narrow at all (a bare term: every thing is built and matched). Anchor, same
// registry, same run: ListThings' keyset page of 100 (one index range, no documents) — the
// cheapest page of things the registry serves. Things carry two attributes and a classic shadow;
// indexing is REGISTRY_AND_SHADOW with connectivity.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "cloud/index/query.hpp"
#include "cloud/registry/registry.hpp"
#include "common/hex.hpp"
#include "crypto/digest.hpp"

namespace {

namespace fs = std::filesystem;
using namespace zt;
using namespace zt::cloud;
using Clock = std::chrono::steady_clock;

constexpr int kPage = 100;

std::string thing_name(int n) { return fmt::format("kit-{:06d}", n); }

void fill(registry::Registry& registry, int things) {
  auto filled = registry.transaction([&]() -> Status {
    ZT_TRY(registry.insert_thing_type({.name = "Sensor", .id = "sensor-type"}));
    for (int n = 0; n < things; ++n) {
      std::string name = thing_name(n);
      nlohmann::json attributes = {{"color", n % 10 == 0 ? "red" : "blue"},
                                   {"serial", std::to_string(n)}};
      ZT_TRY(registry.insert_thing(
          {.name = name,
           .id = name,
           .type_name = n % 2 ? std::optional<std::string>("Sensor") : std::nullopt,
           .attributes = attributes.dump()}));
      nlohmann::json shadow = {{"exists", true},
                               {"version", 1},
                               {"desired", nlohmann::json::object()},
                               {"reported", {{"temp", n % 1000}, {"mode", "heat"}}},
                               {"metadata", {{"reported", {{"temp", {{"timestamp", 1}}}}}}}};
      ZT_TRY(registry.put_shadow(name, "", shadow.dump()));
    }
    index::IndexingConfiguration configuration;
    configuration.thing_indexing_mode = "REGISTRY_AND_SHADOW";
    configuration.thing_connectivity_indexing_mode = "STATUS";
    return registry.set_indexing_configuration(configuration);
  });
  if (!filled) throw std::runtime_error(filled.error().message);
}

struct Percentiles {
  double p50 = 0, p99 = 0;
};

template <class F>
Percentiles measure(int runs, F&& body) {
  std::vector<double> samples;
  for (int i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    body();
    samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    return samples[std::min(samples.size() - 1, static_cast<std::size_t>(q * samples.size()))];
  };
  return {at(0.50), at(0.99)};
}

void run(const fs::path& dir, int things) {
  auto registry = std::move(*registry::Registry::open(dir / fmt::format("registry-{}.db", things)));
  auto t0 = Clock::now();
  fill(*registry, things);
  fmt::print("\n{} things (two attributes and a shadow each) inserted in {:.0f} ms\n", things,
             std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  std::string middle = thing_name(things / 2);
  auto anchor = measure(200, [&] {
    auto page = registry->list_things({.after = middle, .limit = kPage});
    if (!page || page->items.size() != kPage) throw std::runtime_error("anchor page");
  });
  fmt::print("anchor: ListThings keyset page of {}: p50 {:.0f} us, p99 {:.0f} us\n", kPage,
             anchor.p50, anchor.p99);
  struct Case {
    const char* query;
    const char* how;
    int runs;
  } cases[] = {
      {"thingName:kit-0005*", "SQL exact (name GLOB)", 200},
      {"attributes.color:red AND thingTypeName:Sensor", "SQL exact, no match: scans all", 20},
      {"attributes.color:red", "SQL exact (attribute)", 200},
      {"shadow.reported.temp>990", "SQL superset (shadow number)", 50},
      {"thingName:kit-00* AND NOT attributes.color:red", "SQL exact with NOT", 200},
      {"shadow.reported.mode:heat", "not translated: every candidate built", 200},
      {"heat AND serial", "bare terms: not translated, no match: builds every thing", 5},
  };
  for (const auto& c : cases) {
    auto query = index::parse_query(c.query);
    if (!query) throw std::runtime_error(query.error().message);
    std::size_t found = 0;
    auto ours = measure(c.runs, [&] {
      auto parsed = index::parse_query(c.query);
      auto page = registry->search_things(*parsed, {.after = "", .limit = kPage});
      if (!page) throw std::runtime_error(page.error().message);
      found = page->items.size();
    });
    fmt::print(
        "SearchIndex '{}' ({}), page of {} ({} found): p50 {:.0f} us, p99 {:.0f} us; p50 {:.1f}x "
        "anchor\n",
        c.query, c.how, kPage, found, ours.p50, ours.p99, ours.p50 / anchor.p50);
  }
}

}  // namespace

int main() {
  fs::path dir = fs::temp_directory_path() / ("zt-bench-search-" + to_hex(crypto::random_bytes(6)));
  fs::create_directories(dir);
  try {
    for (int things : {10000, 100000}) run(dir, things);
  } catch (const std::exception& error) {
    fmt::print(stderr, "bench_search: {}\n", error.what());
    fs::remove_all(dir);
    return 1;
  }
  fs::remove_all(dir);
  return 0;
}
