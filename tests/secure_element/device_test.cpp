// The client API over the in-process and Unix-socket transports, the kit's provision step, the
// state file, and the i2c-dev transport's message building (no hardware here: packets only).
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "common/file.hpp"
#include "common/hex.hpp"
#include "crypto/digest.hpp"
#include "crypto/ecdsa.hpp"
#include "se_test_util.hpp"
#include "secure_element/crc.hpp"
#include "secure_element/i2c_dev_transport.hpp"
#include "secure_element/state_file.hpp"
#include "secure_element/unix_socket.hpp"

namespace zt::se {
namespace {

using testing::Chip;

std::filesystem::path temp_dir() {
  auto dir = std::filesystem::temp_directory_path() /
             ("zt-se-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// FIPS 180-2 SHA-256 examples, computed by the chip's SHA command (start / update / end).
TEST(DeviceSha, Fips180Vectors) {
  Chip chip;
  EXPECT_EQ(to_hex(chip.device.sha256(as_bytes("abc")).value()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(chip.device.sha256({}).value()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(chip.device
                       .sha256(as_bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
                       .value()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  EXPECT_EQ(to_hex(chip.device.sha256(as_bytes(million)).value()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Device, ProvisionThenSignVerifyEcdh) {
  Chip chip;
  EXPECT_EQ(chip.device.info().value(), (std::array<uint8_t, 4>{0x00, 0x00, 0x50, 0x00}));
  const auto sn = chip.device.serial_number().value();
  EXPECT_EQ(sn[0], 0x01);
  EXPECT_EQ(sn[1], 0x23);
  EXPECT_EQ(sn[8], 0xEE);
  EXPECT_FALSE(chip.device.config_locked().value());

  const auto device_key = chip.provision_kit();
  EXPECT_TRUE(chip.device.config_locked().value());
  EXPECT_TRUE(chip.device.data_locked().value());
  EXPECT_EQ(chip.device.public_key(0).value(), device_key);
  const Bytes config = chip.device.read_config().value();
  EXPECT_EQ(config[config_offset::i2c_address], kit_i2c_address);
  EXPECT_EQ(Bytes(config.begin() + 20, config.begin() + 84),
            Bytes(kit_config().begin() + 20, kit_config().begin() + 84));
  EXPECT_EQ(Bytes(config.begin() + 88, config.end()),
            Bytes(kit_config().begin() + 88, kit_config().end()));

  // Provisioning twice is refused.
  auto again = provision(chip.device);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Errc::conflict);

  const auto digest = crypto::sha256(as_bytes("hello"));
  const auto signature = chip.device.sign_digest(0, digest).value();
  auto public_key = crypto::public_key_from_raw(device_key).value();
  EXPECT_TRUE(crypto::ecdsa_verify_digest_raw(public_key.get(), digest, signature));
  EXPECT_TRUE(chip.device.verify_extern(digest, signature, device_key).value());
  auto other = digest;
  other[0] ^= 1;
  EXPECT_FALSE(chip.device.verify_extern(other, signature, device_key).value());

  auto peer = crypto::generate_p256_key().value();
  const auto peer_public = crypto::public_key_raw(peer.get()).value();
  const auto ephemeral = chip.device.genkey(2).value();
  auto ephemeral_key = crypto::public_key_from_raw(ephemeral).value();
  EXPECT_EQ(chip.device.ecdh(2, peer_public).value(),
            crypto::ecdh_shared_secret(peer.get(), ephemeral_key.get()).value());
  EXPECT_TRUE(
      chip.device.ecdh(0, peer_public).value().empty());  // slot 0 sends the secret to slot 1

  // Access rules surface as errors that carry the chip status.
  auto read_key = chip.device.read_slot(0);
  ASSERT_FALSE(read_key.has_value());
  EXPECT_EQ(chip_status(read_key.error()), status::execution_error);
  EXPECT_NE(read_key.error().message.find("Read"), std::string::npos);

  // Data slots round-trip.
  const Bytes metadata = crypto::random_bytes(416);
  ASSERT_TRUE(chip.device.write_slot(8, metadata));
  EXPECT_EQ(chip.device.read_slot(8).value(), metadata);
  EXPECT_FALSE(chip.device.write_slot(8, Bytes(6, 0)).has_value());  // not whole words
}

TEST(Device, LockDataWithHostComputedCrc) {
  Chip chip;
  chip.configure();
  const Bytes cert(64, 0x5C);  // before the data lock: whole 32-byte blocks only
  ASSERT_TRUE(chip.device.write_slot(10, cert));
  ChipState expected = chip.emulator->state();
  auto wrong =
      chip.device.lock_data(static_cast<uint16_t>(crc16(expected.data_and_otp()) ^ 0xFFFF));
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(chip_status(wrong.error()), status::execution_error);
  EXPECT_TRUE(chip.device.lock_data(crc16(expected.data_and_otp())).has_value());
}

TEST(Device, ConcurrentSignersShareOneDevice) {
  Chip chip;
  const auto device_key = chip.provision_kit();
  auto public_key = crypto::public_key_from_raw(device_key).value();
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const auto digest =
            crypto::sha256(as_bytes("thread " + std::to_string(t) + " " + std::to_string(i)));
        auto signature = chip.device.sign_digest(0, digest);
        if (signature && crypto::ecdsa_verify_digest_raw(public_key.get(), digest, *signature))
          ++good;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(good.load(), 40);
}

TEST(Device, TwoDevicesOnOneEmulatorDoNotInterleave) {
  Chip chip;
  const auto device_key = chip.provision_kit();
  auto public_key = crypto::public_key_from_raw(device_key).value();
  Device second(std::make_unique<InProcessTransport>(chip.emulator));
  std::atomic<int> good{0};
  auto worker = [&](Device& device, int id) {
    for (int i = 0; i < 15; ++i) {
      const auto digest = crypto::sha256(as_bytes(std::to_string(id * 100 + i)));
      auto signature = device.sign_digest(0, digest);
      if (signature && crypto::ecdsa_verify_digest_raw(public_key.get(), digest, *signature))
        ++good;
    }
  };
  std::thread a(worker, std::ref(chip.device), 1);
  std::thread b(worker, std::ref(second), 2);
  a.join();
  b.join();
  EXPECT_EQ(good.load(), 30);
}

TEST(StateFile, RoundTripMode0600AndErrors) {
  const auto dir = temp_dir();
  const auto path = dir / "chip.json";
  const ChipState created = load_or_create_state(path).value();
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(created.config[0], 0x01);
  EXPECT_EQ(created.config[1], 0x23);
  EXPECT_EQ(created.config[12], 0xEE);
  EXPECT_FALSE(created.config_locked());
  EXPECT_EQ(load_or_create_state(path).value(), created);  // existing file is loaded, not replaced

  ChipState changed = created;
  changed.slots[8][0] = 0x42;
  changed.set_counter(1, 7);
  ASSERT_TRUE(save_state(path, changed));
  EXPECT_EQ(load_state(path).value(), changed);

  ASSERT_TRUE(write_file_atomic(
      path, std::string_view("{\"format\": \"zerotouch-atecc508a-state\", \"version\": 9}")));
  auto bad_version = load_state(path);
  ASSERT_FALSE(bad_version.has_value());
  EXPECT_NE(bad_version.error().message.find("version"), std::string::npos);
  std::string text = encode_state(changed);
  text.replace(text.find("\"otp\": \""), 9, "\"otp\": \"zz");
  auto bad_hex = decode_state(text, "chip.json");
  ASSERT_FALSE(bad_hex.has_value());
  EXPECT_NE(bad_hex.error().message.find("otp"), std::string::npos);
  EXPECT_FALSE(decode_state("[]").has_value());
  std::filesystem::remove_all(dir);
}

TEST(StateFile, EmulatorPersistsEveryChange) {
  const auto dir = temp_dir();
  const auto path = dir / "chip.json";
  {
    auto emulator = std::make_shared<Emulator>(
        load_or_create_state(path).value(),
        [path](const ChipState& state) { return save_state(path, state); });
    Device device(std::make_unique<InProcessTransport>(emulator));
    ASSERT_TRUE(provision(device).has_value());
    ASSERT_TRUE(device.write_slot(8, Bytes(32, 0x61)));
  }
  const ChipState reloaded = load_state(path).value();
  EXPECT_TRUE(reloaded.config_locked());
  EXPECT_TRUE(reloaded.data_locked());
  EXPECT_EQ(reloaded.slots[8][31], 0x61);
  auto emulator = std::make_shared<Emulator>(reloaded);
  Device device(std::make_unique<InProcessTransport>(emulator));
  const auto digest = crypto::sha256(as_bytes("after restart"));
  auto key = crypto::public_key_from_raw(device.public_key(0).value()).value();
  EXPECT_TRUE(
      crypto::ecdsa_verify_digest_raw(key.get(), digest, device.sign_digest(0, digest).value()));
  std::filesystem::remove_all(dir);
}

TEST(UnixSocket, DeviceOverSocketServer) {
  const auto dir = temp_dir();
  const auto socket_path = dir / "se.sock";
  auto emulator = std::make_shared<Emulator>(testing::test_blank_chip());
  auto server = SocketServer::listen(emulator, socket_path);
  ASSERT_TRUE(server.has_value()) << server.error().message;
  struct stat info {};
  ASSERT_EQ(::stat(socket_path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  std::atomic<bool> stop{false};
  std::thread serving([&] { EXPECT_TRUE((*server)->run(stop)); });

  {
    auto transport = UnixSocketTransport::connect(socket_path);
    ASSERT_TRUE(transport.has_value()) << transport.error().message;
    Device device(std::move(*transport));
    EXPECT_EQ(device.info().value(), (std::array<uint8_t, 4>{0x00, 0x00, 0x50, 0x00}));
    const auto device_key = provision(device).value().device_public_key;
    const auto digest = crypto::sha256(as_bytes("over the socket"));
    auto key = crypto::public_key_from_raw(device_key).value();
    EXPECT_TRUE(
        crypto::ecdsa_verify_digest_raw(key.get(), digest, device.sign_digest(0, digest).value()));
    auto denied = device.read_slot(0);
    ASSERT_FALSE(denied.has_value());
    EXPECT_EQ(chip_status(denied.error()), status::execution_error);

    // Two socket clients signing at once never interleave their Nonce/Sign pairs.
    Device second(std::move(UnixSocketTransport::connect(socket_path).value()));
    std::atomic<int> good{0};
    auto worker = [&](Device& d, int id) {
      for (int i = 0; i < 10; ++i) {
        const auto m = crypto::sha256(as_bytes(std::to_string(id * 1000 + i)));
        auto s = d.sign_digest(0, m);
        if (s && crypto::ecdsa_verify_digest_raw(key.get(), m, *s)) ++good;
      }
    };
    std::thread a(worker, std::ref(device), 1);
    std::thread b(worker, std::ref(second), 2);
    a.join();
    b.join();
    EXPECT_EQ(good.load(), 20);
  }
  // Raw framing: a command without a wake is not acknowledged.
  {
    auto raw = UnixSocketTransport::connect(socket_path).value();
    auto nack = raw->execute(encode_command(Opcode::info, 0, 0));
    ASSERT_FALSE(nack.has_value());
    EXPECT_NE(nack.error().message.find("acknowledge"), std::string::npos);
    ASSERT_TRUE(raw->wake());
    EXPECT_EQ(to_hex(raw->execute(encode_command(Opcode::info, 0, 0)).value()),
              "0700005000" + to_hex(crc16_le(from_hex("0700005000").value())));
    ASSERT_TRUE(raw->sleep());
  }
  stop = true;
  serving.join();
  server->reset();
  EXPECT_FALSE(std::filesystem::exists(socket_path));
  EXPECT_FALSE(UnixSocketTransport::connect(socket_path).has_value());
  std::filesystem::remove_all(dir);
}

// /dev/i2c-N: only message building can be tested without a chip on a bus.
TEST(I2cDev, MessageBuilding) {
  EXPECT_EQ(i2c_address_7bit(0xC0), 0x60);
  EXPECT_EQ(i2c_address_7bit(kit_i2c_address), 0x58);
  const auto wake = i2c_messages_wake();
  ASSERT_EQ(wake.size(), 1u);
  EXPECT_EQ(wake[0].address, 0x00);
  EXPECT_FALSE(wake[0].read);
  EXPECT_EQ(wake[0].data, Bytes{0x00});
  const auto idle = i2c_messages_word(0x60, word_address::idle);
  EXPECT_EQ(idle[0].data, Bytes{0x02});
  const auto command = i2c_messages_command(0x60, encode_command(Opcode::info, 0, 0));
  ASSERT_EQ(command.size(), 1u);
  EXPECT_EQ(command[0].address, 0x60);
  EXPECT_EQ(to_hex(command[0].data), "030730000000035d");
  EXPECT_FALSE(I2cDevTransport::open("/nonexistent/i2c-99", 0xC0).has_value());
}

}  // namespace
}  // namespace zt::se
