// courier-ctl token add|list|rm: courier-api's bearer tokens (ctl.h).
#include <iostream>

#include "core/json.h"
#include "ctl/ctl.h"
#include "ctl/table.h"
#include "model/api_token.h"

namespace courier {

int Ctl::TokenAdd(const std::string& name, const std::string& scopes_text) {
  auto scopes = ParseApiScopes(scopes_text);
  if (!scopes.ok()) return Report(Status::Usage(scopes.status().message()));
  auto token = NewApiToken();
  if (!token.ok()) return Report(token.status());
  auto store = OpenExisting(StoreAccess::kReadWrite);
  if (!store.ok()) return Report(store.status());
  ApiToken row;
  row.name = name;
  row.token_hash = ApiTokenHash(*token);
  row.scopes = *scopes;
  auto added = (*store)->AddApiToken(row);
  if (!added.ok()) return Report(added.status());
  std::string joined;
  for (const auto& s : added->scopes) joined += (joined.empty() ? "" : ",") + s;
  // The token is shown this once (the store keeps its hash): alone on the
  // last line, so that a script takes it with `tail -1`.
  out_ << "token '" << added->name << "' added (scopes " << joined
       << "); it is shown only now, keep it (Authorization: Bearer TOKEN):\n"
       << *token << '\n';
  return exit_code::kOk;
}

int Ctl::TokenList(bool json) {
  auto store = OpenExisting(StoreAccess::kReadOnly);
  if (!store.ok()) return Report(store.status());
  auto tokens = (*store)->ListApiTokens();
  if (!tokens.ok()) return Report(tokens.status());
  if (json) {
    for (const auto& t : *tokens) {
      auto o = json::NewObject();
      o->set("name", t.name);
      o->set("scopes", json::StringArray(t.scopes));
      json::SetTime(o, "created_on", t.created_on);
      json::SetTime(o, "last_used_on", t.last_used_on);
      out_ << json::Stringify(o) << '\n';
    }
    return exit_code::kOk;
  }
  Table table({"NAME", "SCOPES", "CREATED", "LAST USED"});
  for (const auto& t : *tokens) {
    std::string scopes;
    for (const auto& s : t.scopes) scopes += (scopes.empty() ? "" : ",") + s;
    table.Add({t.name, scopes, TableTime(t.created_on), TableTime(t.last_used_on)});
  }
  table.Print(out_);
  return exit_code::kOk;
}

int Ctl::TokenRemove(const std::string& name) {
  auto store = OpenExisting(StoreAccess::kReadWrite);
  if (!store.ok()) return Report(store.status());
  Status removed = (*store)->RemoveApiToken(name);
  if (!removed.ok()) return Report(removed);
  out_ << "removed token '" << name << "'\n";
  return exit_code::kOk;
}

}  // namespace courier
