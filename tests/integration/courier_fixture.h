#pragma once
// CourierFixture: what most integration tests share, so that each test
// file states only what it adds. One temporary store, spool and run dir;
// the environment every program of the suite reads them from; courier-ctl;
// channels; courier-recv on a free loopback port.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"

namespace courier::testing {

class CourierFixture : public ::testing::Test {
 protected:
  // env_ names the store, spool and run dir in dir_, courier-recv's
  // address (127.0.0.1) and port_, and log level warn. A test changes or
  // adds entries before it runs the program that should see them.
  CourierFixture();

  RunResult Ctl(std::vector<std::string> args);

  // courier-ctl init; the test fails if it does.
  void InitStore();

  // courier-ctl channel add of `type` at `address` in RW with each of
  // `config` ("key=value"); returns the new channel's uuid, or "" after
  // failing the test.
  std::string AddChannel(const std::string& type, const std::vector<std::string>& config,
                         const std::string& address = "1234");

  // Receive-only EX and KN channels (a channel still needs what it would
  // send with), as the tests of webhooks post to.
  std::string AddReceiveOnlyExternal();
  std::string AddReceiveOnlyKannel();

  // Starts courier-recv with `extra` arguments and waits until it answers.
  void StartRecv(std::vector<std::string> extra = {});

  TempDir dir_;
  int port_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<Daemon> recv_;
};

}  // namespace courier::testing
