#include "courier_fixture.h"

namespace courier::testing {

CourierFixture::CourierFixture()
    : port_(FreePort()),
      env_{{"COURIER_DB", dir_.File("courier.db")},
           {"COURIER_SPOOL_DIR", dir_.File("spool")},
           {"COURIER_RUN_DIR", dir_.File("run")},
           {"COURIER_PORT", std::to_string(port_)},
           {"COURIER_ADDRESS", "127.0.0.1"},
           {"COURIER_LOG_LEVEL", "warn"}} {}

RunResult CourierFixture::Ctl(std::vector<std::string> args) {
  args.insert(args.begin(), Bin("courier-ctl"));
  return RunProgram(args, "", env_);
}

void CourierFixture::InitStore() {
  auto init = Ctl({"init"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
}

std::string CourierFixture::AddChannel(const std::string& type, const std::vector<std::string>& config,
                                       const std::string& address) {
  std::vector<std::string> args = {"channel", "add", "--type", type, "--address", address, "--country", "RW"};
  for (const auto& setting : config) args.insert(args.end(), {"--config", setting});
  auto added = Ctl(args);
  auto lines = Lines(added.out);
  if (added.exit_code != 0 || lines.empty()) {
    ADD_FAILURE() << "channel add --type " << type << ": " << added.err;
    return "";
  }
  return lines.front();
}

std::string CourierFixture::AddReceiveOnlyExternal() {
  return AddChannel("EX", {"send_url=http://127.0.0.1:9/send"});
}

std::string CourierFixture::AddReceiveOnlyKannel() {
  return AddChannel("KN", {"send_url=http://127.0.0.1:9/cgi-bin/sendsms", "username=courier", "password=kannel-s3cret"});
}

void CourierFixture::StartRecv(std::vector<std::string> extra) {
  std::vector<std::string> argv = {Bin("courier-recv")};
  argv.insert(argv.end(), extra.begin(), extra.end());
  recv_ = std::make_unique<Daemon>(argv, env_, dir_.File("recv.log"));
  ASSERT_TRUE(recv_->WaitForHttp(port_)) << recv_->log();
}

}  // namespace courier::testing
