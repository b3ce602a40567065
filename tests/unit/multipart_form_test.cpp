// MultipartForm (http/multipart_form.h): fields then files, a boundary
// nothing in the body contains, and header-breaking names made harmless.
#include "http/multipart_form.h"

#include <gtest/gtest.h>

namespace courier {
namespace {

TEST(MultipartForm, FieldsThenFilesUnderOneBoundary) {
  auto form = MultipartForm({{"to", "+250788"}, {"text", "hi"}}, {{"media", "a.jpg", "image/jpeg", "JPEGBYTES"}});
  EXPECT_EQ(form.content_type, "multipart/form-data; boundary=courier-form-boundary");
  EXPECT_EQ(form.body,
            "--courier-form-boundary\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\n+250788\r\n"
            "--courier-form-boundary\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhi\r\n"
            "--courier-form-boundary\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.jpg\"\r\n"
            "Content-Type: image/jpeg\r\n\r\nJPEGBYTES\r\n"
            "--courier-form-boundary--\r\n");
}

TEST(MultipartForm, TheBoundaryIsOneNoValueOrFileContains) {
  auto in_value = MultipartForm({{"text", "--courier-form-boundary"}});
  EXPECT_EQ(in_value.content_type, "multipart/form-data; boundary=courier-form-boundaryx");
  auto in_file = MultipartForm({}, {{"f", "x", "text/plain", "courier-form-boundary courier-form-boundaryx"}});
  EXPECT_EQ(in_file.content_type, "multipart/form-data; boundary=courier-form-boundaryxx");
}

TEST(MultipartForm, QuotesAndLineBreaksCannotEndAHeader) {
  auto form = MultipartForm({}, {{"media", "a\"b\r\nX-Evil: 1.jpg", "image/jpeg\r\nX: y", "z"}});
  EXPECT_NE(form.body.find("filename=\"a_b__X-Evil: 1.jpg\""), std::string::npos) << form.body;
  EXPECT_NE(form.body.find("Content-Type: image/jpeg__X: y\r\n"), std::string::npos) << form.body;
}

}  // namespace
}  // namespace courier
