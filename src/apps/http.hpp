// The HTTP/1.1 pieces of `ustack serve --http`: parsing a request head, mapping its target to a
// file under the served directory without escaping it, and writing response heads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ustack::apps::http {

// Longest request head accepted (request line and headers); longer is a 400.
inline constexpr std::size_t kMaxHead = 16 * 1024;

struct Request {
    std::string method;
    std::string target;
    int minor_version = 1;  // HTTP/1.minor
    bool keep_alive = true;
    std::uint64_t content_length = 0;  // body bytes that follow the head (skipped)
};

enum class ParseStatus : std::uint8_t { kIncomplete, kDone, kBad };

struct ParseResult {
    ParseStatus status = ParseStatus::kIncomplete;
    std::size_t head_size = 0;  // bytes of `in` the head took (kDone)
    Request request;
};

// Parses one request head at the start of `in` (RFC 9112 2-3, 5-6). kIncomplete when the blank
// line has not arrived yet and `in` is still shorter than kMaxHead.
ParseResult parse_request(std::string_view in);

// The served directory, resolved once. resolve() maps a request target to a regular file inside
// it: percent-decoded, query dropped, any ".." segment refused, symlinks followed only while the
// result stays inside the root; a directory maps to its index.html. nullopt means 404.
class DocRoot {
  public:
    // Throws FatalError when `dir` is not a readable directory.
    explicit DocRoot(const std::string& dir);
    std::optional<std::string> resolve(std::string_view target) const;
    const std::string& path() const { return root_; }

  private:
    std::string root_;  // realpath, no trailing slash (except "/")
};

// "HTTP/1.1 200 OK\r\nServer: ustack\r\nDate: ...\r\nContent-Length: N\r\n...\r\n\r\n"
std::string response_head(int status, std::uint64_t content_length, std::string_view content_type,
                          bool keep_alive, std::string_view extra_headers = {});
std::string_view reason_phrase(int status);
std::string_view content_type_for(std::string_view path);

}  // namespace ustack::apps::http
