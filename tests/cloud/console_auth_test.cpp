// The web console's parsers and stores without a server: sessions and one-time login tokens,
// cookie parsing, login bodies, redirect targets, static path resolution, the SSE queue and the
// topic fan-out.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cloud/api/event_stream.hpp"
#include "cloud/console/session.hpp"
#include "cloud/console/static_files.hpp"
#include "cloud/console/stream_hub.hpp"
#include "common/hex.hpp"
#include "crypto/digest.hpp"

namespace zt::cloud::console {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = SessionStore::Clock;

TEST(ConsoleSession, SessionsExpireAfterTwelveHoursAndCanEnd) {
  SessionStore store;
  auto t0 = Clock::now();
  std::string token = store.create_session(t0);
  EXPECT_EQ(token.size(), 64u);
  EXPECT_TRUE(store.valid_session(token, t0 + std::chrono::hours(11)));
  EXPECT_FALSE(store.valid_session(token, t0 + std::chrono::hours(12)));
  std::string other = store.create_session(t0);
  EXPECT_NE(other, token);
  EXPECT_FALSE(store.valid_session(other.substr(0, 63) + (other[63] == 'a' ? "b" : "a"), t0));
  store.end_session(other);
  EXPECT_FALSE(store.valid_session(other, t0));
  EXPECT_FALSE(store.valid_session("", t0));
}

TEST(ConsoleSession, LoginTokensWorkOnceAndExpireAfter120Seconds) {
  SessionStore store;
  auto t0 = Clock::now();
  std::string token = store.create_login_token(t0);
  EXPECT_TRUE(store.redeem_login_token(token, t0 + std::chrono::seconds(119)));
  EXPECT_FALSE(store.redeem_login_token(token, t0 + std::chrono::seconds(119)));
  std::string late = store.create_login_token(t0);
  EXPECT_FALSE(store.redeem_login_token(late, t0 + std::chrono::seconds(121)));
  // A login token is not a session and vice versa.
  std::string session = store.create_session(t0);
  EXPECT_FALSE(store.redeem_login_token(session, t0));
  std::string link = store.create_login_token(t0);
  EXPECT_FALSE(store.valid_session(link, t0));
}

TEST(ConsoleSession, StoreIsBoundedOldestGoesFirst) {
  SessionStore store(3, 3);
  auto t0 = Clock::now();
  std::string first = store.create_session(t0);
  for (int i = 1; i <= 3; ++i) store.create_session(t0 + std::chrono::seconds(i));
  EXPECT_EQ(store.session_count(), 3u);
  EXPECT_FALSE(store.valid_session(first, t0 + std::chrono::seconds(5)));
}

TEST(ConsoleSession, CookieValueFindsTheNamedCookie) {
  EXPECT_EQ(cookie_value("a=1; zt_console=abc; b=2", "zt_console"), "abc");
  EXPECT_EQ(cookie_value("zt_console=\"q\"", "zt_console"), "q");
  EXPECT_EQ(cookie_value("x_zt_console=no;zt_console=yes", "zt_console"), "yes");
  EXPECT_FALSE(cookie_value("zt_consolex=1; other", "zt_console"));
  EXPECT_FALSE(cookie_value("", "zt_console"));
  std::string cookie = session_cookie("tok");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookie.find("Path=/console"), std::string::npos);
}

TEST(ConsoleSession, LoginBodyNeedsBothStrings) {
  std::string error;
  auto ok = parse_login_body(R"({"accessKeyId":"AK","secretAccessKey":"s"})", error);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->access_key_id, "AK");
  EXPECT_EQ(ok->secret_access_key, "s");
  EXPECT_FALSE(parse_login_body(R"({"accessKeyId":"AK"})", error));
  EXPECT_NE(error.find("secretAccessKey"), std::string::npos);
  EXPECT_FALSE(parse_login_body(R"({"accessKeyId":1,"secretAccessKey":"s"})", error));
  EXPECT_FALSE(parse_login_body("not json", error));
  EXPECT_FALSE(parse_login_body("[]", error));
  EXPECT_FALSE(parse_login_body(
      json{{"accessKeyId", std::string(200, 'a')}, {"secretAccessKey", "s"}}.dump(), error));
}

TEST(ConsoleSession, NextMustStayInsideTheConsole) {
  EXPECT_TRUE(safe_next_path("/console/#/device/abc"));
  EXPECT_TRUE(safe_next_path("/console/"));
  EXPECT_FALSE(safe_next_path("https://evil.example/"));
  EXPECT_FALSE(safe_next_path("//evil.example/console/"));
  EXPECT_FALSE(safe_next_path("/console//evil.example"));
  EXPECT_FALSE(safe_next_path("/console/\\evil"));
  EXPECT_FALSE(safe_next_path("/console/\r\nSet-Cookie: x"));
  EXPECT_FALSE(safe_next_path("/other"));
}

TEST(ConsoleStatic, RelativePathsRefuseTraversalAndOddNames) {
  EXPECT_EQ(static_relative_path("/console/"), "index.html");
  EXPECT_EQ(static_relative_path("/console/assets/app.js"), "assets/app.js");
  EXPECT_EQ(static_relative_path("/console/assets/img/logo.svg"), "assets/img/logo.svg");
  for (const char* bad :
       {"/console/assets/../../registry.db", "/console/assets/%2e%2e/x", "/console/assets/.env",
        "/console/assets/", "/console/assets//x", "/console/assets/a/../b", "/console/assets/a b",
        "/console/registry.db", "/console/assets/a\\b", "/console/assets/a/b/c/d/e"}) {
    EXPECT_FALSE(static_relative_path(bad)) << bad;
  }
}

TEST(ConsoleStatic, ResolvedFilesStayInsideTheWebDirectory) {
  fs::path dir = fs::temp_directory_path() / ("zt-console-" + to_hex(crypto::random_bytes(6)));
  fs::create_directories(dir / "web/assets");
  std::ofstream(dir / "web/index.html") << "<!doctype html>";
  std::ofstream(dir / "web/assets/app.js") << "1";
  std::ofstream(dir / "secret.txt") << "secret";
  fs::create_symlink(dir / "secret.txt", dir / "web/assets/leak.txt");
  fs::create_directories(dir / "web/assets/dir");
  EXPECT_TRUE(resolve_static_file(dir / "web", "index.html"));
  EXPECT_TRUE(resolve_static_file(dir / "web", "assets/app.js"));
  EXPECT_FALSE(resolve_static_file(dir / "web", "assets/leak.txt"));  // symlink out
  EXPECT_FALSE(resolve_static_file(dir / "web", "assets/dir"));       // not a file
  EXPECT_FALSE(resolve_static_file(dir / "web", "assets/missing.js"));
  EXPECT_FALSE(resolve_static_file(dir / "web", "../secret.txt"));
  // A sibling directory whose name starts with the web dir's is still outside.
  fs::create_directories(dir / "web2");
  std::ofstream(dir / "web2/x.js") << "x";
  EXPECT_FALSE(resolve_static_file(dir / "web", "../web2/x.js"));
  auto file = read_static_file(*resolve_static_file(dir / "web", "assets/app.js"));
  ASSERT_TRUE(file);
  EXPECT_EQ(file->body, "1");
  EXPECT_EQ(file->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_of("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_of("x.bin"), "application/octet-stream");
  fs::remove_all(dir);
}

TEST(ConsoleStream, OverflowDropsAndAsksForResync) {
  api::EventStream stream(3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(stream.push("e" + std::to_string(i)));
  auto batch = stream.take();
  EXPECT_EQ(batch.events.size(), 3u);
  EXPECT_FALSE(batch.overflowed);
  for (int i = 0; i < 5; ++i) stream.push("x" + std::to_string(i));
  batch = stream.take();
  EXPECT_TRUE(batch.overflowed);
  EXPECT_LE(batch.events.size(), 3u);
  ASSERT_FALSE(batch.events.empty());
  EXPECT_EQ(batch.events.back(), "x4");    // the newest survives the drop
  EXPECT_FALSE(stream.take().overflowed);  // reported once
  stream.close();
  EXPECT_FALSE(stream.push("late"));
  EXPECT_TRUE(stream.take().ended);
  EXPECT_EQ(api::EventStream::format("shadow", "{}"), "event: shadow\ndata: {}\n\n");
}

TEST(ConsoleStream, HubRoutesTopicsToThingAndFleetStreams) {
  StreamHub hub(64);
  auto thing = hub.subscribe("abc");
  auto other = hub.subscribe("def");
  auto fleet = hub.subscribe("");
  EXPECT_EQ(hub.watched_things(), (std::set<std::string>{"abc", "def"}));
  hub.on_message("$aws/events/presence/connected/abc", R"({"clientId":"abc"})");
  hub.on_message("$aws/things/abc/shadow/update/documents",
                 R"({"previous":null,"current":{"state":{"desired":{"led2":"on"}},"version":3}})");
  hub.on_message("$aws/things/abc/shadow/update/delta", R"({"state":{"led2":"on"}})");
  hub.on_message("unrelated/topic", "x");
  auto got = thing->take().events;
  ASSERT_EQ(got.size(), 5u);  // message+lifecycle, message+shadow, message
  EXPECT_TRUE(got[0].starts_with("event: message\n"));
  EXPECT_TRUE(got[1].starts_with("event: lifecycle\n"));
  EXPECT_NE(got[3].find(R"("led2":"on")"), std::string::npos);
  EXPECT_TRUE(got[3].starts_with("event: shadow\n"));
  EXPECT_TRUE(other->take().events.empty());
  auto fleet_events = fleet->take().events;
  ASSERT_EQ(fleet_events.size(), 2u);  // lifecycle + shadow, no raw messages
  ASSERT_TRUE(hub.presence("abc"));
  EXPECT_TRUE(hub.presence("abc")->connected);
  hub.on_message("$aws/events/presence/disconnected/abc", "{}");
  EXPECT_FALSE(hub.presence("abc")->connected);
  hub.on_board("abc", {{"led2", "on"}});
  auto board = thing->take().events;
  ASSERT_FALSE(board.empty());
  EXPECT_TRUE(board.back().starts_with("event: board\n"));
  thing->close();
  EXPECT_EQ(hub.watched_things(), (std::set<std::string>{"def"}));
}

// Nobody watches: presence is still tracked (the fleet page reads it when opened), and a stream
// opened afterwards gets what comes after it.
TEST(ConsoleStream, HubWithoutStreamsTracksPresence) {
  StreamHub hub(64);
  hub.on_message("$aws/events/presence/connected/abc", R"({"clientId":"abc"})");
  hub.on_message("$aws/things/abc/shadow/update/delta", "not json");
  ASSERT_TRUE(hub.presence("abc"));
  EXPECT_TRUE(hub.presence("abc")->connected);
  auto thing = hub.subscribe("abc");
  EXPECT_TRUE(thing->take().events.empty());
  hub.on_message("$aws/events/presence/disconnected/abc", "{}");
  EXPECT_FALSE(hub.presence("abc")->connected);
  auto got = thing->take().events;
  ASSERT_EQ(got.size(), 2u);  // message + lifecycle
  EXPECT_TRUE(got[1].starts_with("event: lifecycle\n"));
}

TEST(ConsoleStream, PresenceOfThingsClientsMakeUpIsBounded) {
  // A client publishing to $aws/things/<invented>/… names a new thing each time.
  StreamHub hub(64, 100);
  hub.on_message("$aws/events/presence/connected/kit", "{}");
  for (int i = 0; i < 10000; ++i)
    hub.on_message("$aws/things/made-up-" + std::to_string(i) + "/shadow/update", "{}");
  EXPECT_LE(hub.tracked_things(), 201u);  // swept whenever it passes its threshold
  ASSERT_TRUE(hub.presence("kit"));       // connected: kept
  EXPECT_TRUE(hub.presence("kit")->connected);
  ASSERT_TRUE(hub.presence("made-up-9999"));  // the one just seen is kept
  EXPECT_FALSE(hub.presence("made-up-0"));    // forgotten
}

TEST(ConsoleStream, ThingOfTopic) {
  EXPECT_EQ(thing_of_topic("$aws/things/t1/shadow/update"), "t1");
  EXPECT_EQ(thing_of_topic("$aws/events/presence/connected/t2"), "t2");
  EXPECT_EQ(thing_of_topic("$aws/events/subscriptions/subscribed/t3"), "t3");
  EXPECT_FALSE(thing_of_topic("$aws/things/"));
  EXPECT_FALSE(thing_of_topic("$aws/events/presence/connected"));
  EXPECT_FALSE(thing_of_topic("t/x"));
}

}  // namespace
}  // namespace zt::cloud::console
