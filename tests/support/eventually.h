#pragma once
// Waiting on real processes and servers without sleeping a fixed time.
#include <chrono>
#include <functional>

namespace courier::testing {

// Polls `done` until it returns true (true) or `timeout` has passed (false,
// after one last look). The timeout is a deadline against a hung test,
// never a claim about speed. The pause between looks grows from 10 ms to
// 100 ms: a condition that holds soon is seen at once, and a predicate
// that runs courier-ctl does not keep a core busy through a long wait.
bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace courier::testing
