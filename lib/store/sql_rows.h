#pragma once
// The store's rows and their conversion to the model's values: one row
// type per table read (its columns listed once, in SELECT order, by
// Fields), the SELECT that goes with it, and the To*() that turns a row
// into a value. Every file of the store reads rows through these from a
// statement (ReadRow), so a column is added in one place.
//
// Columns are read by type, never guessed from declared column types:
// std::string (NULL reads as ""), bool (1/0), Int64, NInt (NULL kept).
//
// Errors: stored data that cannot be turned back into a value (bad JSON,
// an unknown status letter) throws CorruptData, which the store's
// transaction runner reports as Corruption.
//
// Thread-safety: plain values and functions.
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "core/channel.h"
#include "core/channel_log.h"
#include "core/clock.h"
#include "core/msg.h"
#include "core/msg_status.h"
#include "model/hook.h"
#include "store/sql_statement.h"
#include "store/store.h"

namespace courier {
namespace sql_rows {

using Int64 = int64_t;
using NInt = std::optional<int64_t>;  // a column that may be NULL

// Stored data that cannot be turned back into a value: reported as
// Corruption.
struct CorruptData : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct MsgRow {
  Int64 id = 0;
  std::string uuid;
  Int64 channel_id = 0;
  std::string channel_uuid;
  std::string channel_type;
  std::string direction;
  std::string status;
  std::string urn;
  std::string text;
  std::string attachments;
  std::string external_id;
  std::string contact_name;
  Int64 priority = 0;
  Int64 error_count = 0;
  std::string error_reason;
  Int64 created_on = 0;
  Int64 modified_on = 0;
  NInt received_on;
  NInt sent_on;
  NInt next_attempt_on;
  std::string claimed_by;
  std::string quick_replies;
  std::string templating;  // NULL reads as ""
  std::string locale;

  // How many columns a row is (kMsgSelect, kMsgReturning): what a
  // statement adds after them starts here.
  static constexpr int kColumns = 24;

  template <typename Self, typename F>
  static void Fields(Self& r, F&& f) {
    f(r.id); f(r.uuid); f(r.channel_id); f(r.channel_uuid); f(r.channel_type);
    f(r.direction); f(r.status); f(r.urn); f(r.text); f(r.attachments);
    f(r.external_id); f(r.contact_name); f(r.priority); f(r.error_count);
    f(r.error_reason); f(r.created_on); f(r.modified_on); f(r.received_on);
    f(r.sent_on); f(r.next_attempt_on); f(r.claimed_by); f(r.quick_replies);
    f(r.templating); f(r.locale);
  }
};

struct ChannelRow {
  Int64 id = 0;
  std::string uuid;
  std::string type;
  std::string name;
  std::string address;
  std::string country;
  std::string schemes;
  std::string config;
  Int64 max_workers = 0;
  Int64 tps = 0;
  bool is_active = false;
  Int64 created_on = 0;

  template <typename Self, typename F>
  static void Fields(Self& r, F&& f) {
    f(r.id); f(r.uuid); f(r.type); f(r.name); f(r.address); f(r.country);
    f(r.schemes); f(r.config); f(r.max_workers); f(r.tps); f(r.is_active);
    f(r.created_on);
  }
};

struct LogRow {
  Int64 id = 0;
  Int64 channel_id = 0;
  std::string channel_uuid;
  NInt msg_id;
  std::string description;
  std::string error;
  std::string method;
  std::string url;
  std::string request;
  std::string response;
  Int64 response_status = 0;
  Int64 elapsed_ms = 0;
  Int64 created_on = 0;

  template <typename Self, typename F>
  static void Fields(Self& r, F&& f) {
    f(r.id); f(r.channel_id); f(r.channel_uuid); f(r.msg_id); f(r.description);
    f(r.error); f(r.method); f(r.url); f(r.request); f(r.response);
    f(r.response_status); f(r.elapsed_ms); f(r.created_on);
  }
};

struct EventRow {
  Int64 seq = 0;
  std::string topic;
  std::string payload;
  Int64 created_on = 0;

  template <typename Self, typename F>
  static void Fields(Self& r, F&& f) {
    f(r.seq); f(r.topic); f(r.payload); f(r.created_on);
  }
};

struct ContactRow {
  Int64 id = 0;
  std::string uuid;
  std::string name;
  bool is_stopped = false;
  Int64 created_on = 0;

  template <typename Self, typename F>
  static void Fields(Self& r, F&& f) {
    f(r.id); f(r.uuid); f(r.name); f(r.is_stopped); f(r.created_on);
  }
};

struct UrnRow {
  Int64 contact_id = 0;
  std::string urn;

  template <typename Self, typename F>
  static void Fields(Self& r, F&& f) {
    f(r.contact_id); f(r.urn);
  }
};

struct HookRow {
  Int64 id = 0;
  std::string uuid;
  std::string url;
  std::string topics;
  std::string channel_uuid;
  std::string format;
  std::string secret;
  std::string auth_token;
  Int64 batch_size = 0;
  bool paused = false;
  std::string paused_reason;
  Int64 cursor = 0;
  Int64 failures = 0;
  std::string last_error;
  NInt last_error_on;
  NInt next_attempt_on;
  NInt delivered_on;
  Int64 created_on = 0;
  Int64 modified_on = 0;

  template <typename Self, typename F>
  static void Fields(Self& r, F&& f) {
    f(r.id); f(r.uuid); f(r.url); f(r.topics); f(r.channel_uuid); f(r.format);
    f(r.secret); f(r.auth_token); f(r.batch_size); f(r.paused); f(r.paused_reason);
    f(r.cursor); f(r.failures); f(r.last_error); f(r.last_error_on);
    f(r.next_attempt_on); f(r.delivered_on); f(r.created_on); f(r.modified_on);
  }
};

struct ApiTokenRow {
  Int64 id = 0;
  std::string name;
  std::string token_hash;
  std::string scopes;
  Int64 created_on = 0;
  NInt last_used_on;

  template <typename Self, typename F>
  static void Fields(Self& r, F&& f) {
    f(r.id); f(r.name); f(r.token_hash); f(r.scopes); f(r.created_on); f(r.last_used_on);
  }
};

// The SELECTs of the row types, columns in Fields() order; callers append
// WHERE and ORDER BY.
inline constexpr const char* kMsgSelect =
    "SELECT m.id, m.uuid, m.channel_id, c.uuid, c.channel_type, m.direction, m.status, m.urn, "
    "m.text, m.attachments, m.external_id, m.contact_name, m.priority, m.error_count, "
    "m.error_reason, m.created_on, m.modified_on, m.received_on, m.sent_on, m.next_attempt_on, "
    "m.claimed_by, m.quick_replies, m.templating, m.locale "
    "FROM msgs m JOIN channels c ON c.id = m.channel_id";

// kMsgSelect's columns as a RETURNING clause of a statement on msgs
// alone: the channel's uuid and type come back blank, for the caller to
// fill from the channel it already holds.
inline constexpr const char* kMsgReturning =
    " RETURNING id, uuid, channel_id, '', '', direction, status, urn, text, attachments, "
    "external_id, contact_name, priority, error_count, error_reason, created_on, modified_on, "
    "received_on, sent_on, next_attempt_on, claimed_by, quick_replies, templating, locale";

inline constexpr const char* kChannelSelect =
    "SELECT id, uuid, channel_type, name, address, country, schemes, config, max_workers, tps, "
    "is_active, created_on FROM channels";

inline constexpr const char* kLogSelect =
    "SELECT l.id, l.channel_id, c.uuid, l.msg_id, l.description, l.error, l.method, l.url, "
    "l.request, l.response, l.response_status, l.elapsed_ms, l.created_on "
    "FROM channel_logs l JOIN channels c ON c.id = l.channel_id";

// HookRow's columns (SELECT <kHookColumns> FROM hooks ...).
inline constexpr const char* kHookColumns =
    "id, uuid, url, topics, channel_uuid, format, secret, auth_token, batch_size, paused, paused_reason, "
    "cursor, failures, last_error, last_error_on, next_attempt_on, delivered_on, created_on, modified_on";

inline constexpr const char* kApiTokenSelect =
    "SELECT id, name, token_hash, scopes, created_on, last_used_on FROM api_tokens";

// Reads one row of a row type from a cached statement, columns in the
// order the type's Fields() lists them.
template <typename Row>
Row ReadRow(const SqlQuery& q) {
  Row r;
  int column = 0;
  Row::Fields(r, [&](auto& v) {
    using V = std::decay_t<decltype(v)>;
    if constexpr (std::is_same_v<V, std::string>) {
      v = q.Text(column);
    } else if constexpr (std::is_same_v<V, bool>) {
      v = q.Int(column) != 0;
    } else if constexpr (std::is_same_v<V, NInt>) {
      if (!q.IsNull(column)) v = q.Int(column);
    } else {
      static_assert(std::is_same_v<V, Int64>, "a column type ReadRow does not know");
      v = q.Int(column);
    }
    ++column;
  });
  return r;
}

// Letters as stored in the status and direction columns.
std::string Letter(MsgStatus s);
std::string Letter(Direction d);
std::optional<Micros> FromNullable(const NInt& v);

// JSON columns: msgs.attachments and msgs.quick_replies (arrays of
// strings), channels.config (an object of strings).
std::string AttachmentsToJson(const std::vector<std::string>& attachments);
std::vector<std::string> AttachmentsFromJson(const std::string& text);
std::string ConfigToJson(const std::map<std::string, std::string>& config);
std::map<std::string, std::string> ConfigFromJson(const std::string& text);

// Comma-list columns (channels.schemes, api_tokens.scopes, hooks.topics):
// JoinList leaves out empty items, SplitList returns the non-empty items.
std::string JoinList(const std::vector<std::string>& items);
std::vector<std::string> SplitList(const std::string& text);

Msg ToMsg(const MsgRow& r);
Channel ToChannel(const ChannelRow& r);
ChannelLog ToLog(const LogRow& r);
Contact ToContact(const ContactRow& r);
// Topics are trimmed of spaces (a list typed by hand reads the same).
Hook ToHook(const HookRow& r);
ApiToken ToApiToken(const ApiTokenRow& r);

// A row of a cached statement, as a value.
inline Hook ReadHook(const SqlQuery& q) { return ToHook(ReadRow<HookRow>(q)); }
inline ApiToken ReadApiToken(const SqlQuery& q) { return ToApiToken(ReadRow<ApiTokenRow>(q)); }

}  // namespace sql_rows
}  // namespace courier
