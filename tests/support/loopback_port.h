// Ports on 127.0.0.1 for the servers a test starts (its daemons, its
// PostgreSQL). A port the kernel hands out for bind(0) is released before
// the server binds it, and CTest runs many test processes at once: another
// one could be handed the same port in between (it happened: a daemon
// found its port taken and the test talked to someone else's). So the
// ports come from below the kernel's ephemeral range, where neither bind(0)
// nor an outgoing connection lands, and each is reserved for the life of
// the test process by a lock on one byte of a file every test process
// shares: no other test process picks it, even while the server it was
// meant for is being restarted.
#ifndef COURIER_TESTS_SUPPORT_LOOPBACK_PORT_H_
#define COURIER_TESTS_SUPPORT_LOOPBACK_PORT_H_

namespace courier::testing {

// A port on 127.0.0.1 that nothing is bound to and that no other test
// process will be given while this one lives; 0 when none is left.
int ReserveLoopbackPort();

}  // namespace courier::testing

#endif  // COURIER_TESTS_SUPPORT_LOOPBACK_PORT_H_
