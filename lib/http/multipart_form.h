#pragma once
// MultipartForm: a multipart/form-data request body (RFC 7578), for
// providers that take uploads (ThinQ's MMS, Kaleyra's media, VK's photos).
#include <string>
#include <utility>
#include <vector>

namespace courier {

// A file part: its form field, the file name the provider sees, its
// Content-Type and its bytes.
struct FormFile {
  std::string field;
  std::string filename;
  std::string content_type;
  std::string bytes;
};

struct MultipartBody {
  std::string body;
  std::string content_type;  // multipart/form-data; boundary=...
};

// `fields` in order, then `files`. The boundary is one that no value and
// no file contains. A quote or line break in a name or file name, which
// would end its header early, is written as '_'.
MultipartBody MultipartForm(const std::vector<std::pair<std::string, std::string>>& fields,
                            const std::vector<FormFile>& files = {});

}  // namespace courier
