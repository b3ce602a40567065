#include "http/multipart_form.h"

namespace courier {
namespace {

std::string HeaderSafe(std::string name) {
  for (char& c : name)
    if (c == '"' || c == '\r' || c == '\n') c = '_';
  return name;
}

}  // namespace

MultipartBody MultipartForm(const std::vector<std::pair<std::string, std::string>>& fields,
                            const std::vector<FormFile>& files) {
  std::string boundary = "courier-form-boundary";
  for (bool clash = true; clash;) {
    clash = false;
    for (const auto& field : fields) clash = clash || field.second.find(boundary) != std::string::npos;
    for (const auto& file : files) clash = clash || file.bytes.find(boundary) != std::string::npos;
    if (clash) boundary += "x";
  }
  std::string body;
  for (const auto& [name, value] : fields)
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + HeaderSafe(name) + "\"\r\n\r\n" +
            value + "\r\n";
  for (const auto& file : files)
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + HeaderSafe(file.field) +
            "\"; filename=\"" + HeaderSafe(file.filename) + "\"\r\nContent-Type: " + HeaderSafe(file.content_type) +
            "\r\n\r\n" + file.bytes + "\r\n";
  body += "--" + boundary + "--\r\n";
  return {std::move(body), "multipart/form-data; boundary=" + boundary};
}

}  // namespace courier
