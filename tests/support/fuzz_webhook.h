#pragma once
// The input format of the handler fuzz target (fuzz/handler_receive.cpp):
// one webhook to one channel, as text a person can read and write and a
// fuzzer can mutate. The handler tests write their receive cases in it
// (COURIER_FUZZ_SEEDS, see handler_harness.cpp), which is where the
// target's seed corpus comes from.
//
//   KN POST receive                 type code, method, action
//   %address=2020                   the channel: address, country,
//   %country=RW                     schemes (comma-separated) and
//   %schemes=tel                    each config value (%config.KEY=VALUE)
//   %config.username=kannel
//   %app=1                          an app-level webhook (/c/{type}/{action})
//   ?id=12&text=hi                  the query string (no '?' in it)
//   content-type: application/x-www-form-urlencoded   headers
//                                   an empty line, then the body
//   body bytes, to the end
//
// Lines end at '\n'; a line the format does not know is ignored, so every
// input decodes (a fuzzer's mutation is never wasted on a parse error).
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace courier::testing {

struct FuzzWebhook {
  std::string type;
  std::string method;
  std::string action;
  bool app = false;
  std::string address;
  std::string country;
  std::vector<std::string> schemes;
  std::map<std::string, std::string> config;
  std::string query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

inline std::string EncodeFuzzWebhook(const FuzzWebhook& w) {
  std::string out = w.type + " " + w.method + " " + w.action + "\n";
  if (w.app) out += "%app=1\n";
  if (!w.address.empty()) out += "%address=" + w.address + "\n";
  if (!w.country.empty()) out += "%country=" + w.country + "\n";
  if (!w.schemes.empty()) {
    out += "%schemes=";
    for (size_t i = 0; i < w.schemes.size(); ++i) out += (i ? "," : "") + w.schemes[i];
    out += "\n";
  }
  // A value with a newline cannot be written; such a seed is only less
  // faithful, never invalid.
  for (const auto& [k, v] : w.config)
    if (v.find('\n') == std::string::npos) out += "%config." + k + "=" + v + "\n";
  if (!w.query.empty()) out += "?" + w.query + "\n";
  for (const auto& [k, v] : w.headers)
    if (v.find('\n') == std::string::npos) out += k + ": " + v + "\n";
  out += "\n";
  out += w.body;
  return out;
}

inline FuzzWebhook DecodeFuzzWebhook(std::string_view in) {
  FuzzWebhook w;
  bool first = true;
  while (!in.empty()) {
    size_t eol = in.find('\n');
    std::string_view line = in.substr(0, eol);
    in = eol == std::string_view::npos ? std::string_view() : in.substr(eol + 1);
    if (line.empty()) {
      w.body = std::string(in);
      break;
    }
    if (first) {
      first = false;
      size_t a = line.find(' ');
      size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
      w.type = std::string(line.substr(0, a));
      if (a != std::string_view::npos) w.method = std::string(line.substr(a + 1, b == std::string_view::npos ? b : b - a - 1));
      if (b != std::string_view::npos) w.action = std::string(line.substr(b + 1));
      continue;
    }
    if (line[0] == '?') {
      w.query = std::string(line.substr(1));
    } else if (line[0] == '%') {
      size_t eq = line.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view key = line.substr(1, eq - 1), value = line.substr(eq + 1);
      if (key == "app") {
        w.app = value == "1";
      } else if (key == "address") {
        w.address = std::string(value);
      } else if (key == "country") {
        w.country = std::string(value);
      } else if (key == "schemes") {
        while (!value.empty()) {
          size_t comma = value.find(',');
          w.schemes.emplace_back(value.substr(0, comma));
          value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
        }
      } else if (key.substr(0, 7) == "config.") {
        w.config[std::string(key.substr(7))] = std::string(value);
      }
    } else {
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name(line.substr(0, colon));
      for (auto& ch : name) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
      std::string_view value = line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
      w.headers[name] = std::string(value);
    }
  }
  return w;
}

}  // namespace courier::testing
