#pragma once
// UUIDs: generation and strict parsing of the textual form.
//
// New UUIDs are version 7 (RFC 9562): the creation time in milliseconds,
// then 74 random bits. They are as unique as v4 for our purposes, and
// because they grow with time every unique index on a uuid column (msgs,
// contacts) takes new rows at its right edge instead of on a random page:
// one page written per commit instead of one per row, which is most of
// the store's write volume under load. The time they reveal is the row's
// created_on, which is stored beside it anyway.
#include <optional>
#include <string>
#include <string_view>

namespace courier {

// A fresh v7 UUID, lower-case canonical text; later calls sort after
// earlier ones from a different millisecond. Thread-safe.
std::string NewUUID();
// A fresh v4 (random) UUID, for things people tell apart by their first
// digits (channels), where v7's shared time prefix would hide them.
std::string NewRandomUUID();
// Lower-cases and checks the 8-4-4-4-12 hex form; nullopt when malformed.
std::optional<std::string> NormalizeUUID(std::string_view text);

}  // namespace courier
