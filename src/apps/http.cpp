#include "apps/http.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <memory>

#include "apps/args.hpp"

namespace ustack::apps::http {

namespace {

bool is_tchar(char c) {
    // RFC 9110 5.6.2 token characters.
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool has_token(std::string_view list, std::string_view token) {
    // A comma-separated header value (Connection: keep-alive, Upgrade) holds `token`.
    while (!list.empty()) {
        const auto comma = list.find(',');
        if (lower(trim(list.substr(0, comma))) == token) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        const char c = static_cast<char>(hi * 16 + lo);
        if (c == '\0') return std::nullopt;
        out.push_back(c);
        i += 2;
    }
    return out;
}

}  // namespace

ParseResult parse_request(std::string_view in) {
    ParseResult r;
    // RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line.
    std::size_t start = 0;
    while (start + 1 < in.size() && in[start] == '\r' && in[start + 1] == '\n')
        start += 2;
    const auto end = in.find("\r\n\r\n", start);
    if (end == std::string_view::npos) {
        r.status = in.size() >= kMaxHead ? ParseStatus::kBad : ParseStatus::kIncomplete;
        return r;
    }
    if (end + 4 > kMaxHead) {
        r.status = ParseStatus::kBad;
        return r;
    }
    r.head_size = end + 4;
    r.status = ParseStatus::kBad;
    std::string_view head = in.substr(start, end - start);
    const auto eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);

    // request-line = method SP request-target SP HTTP-version (RFC 9112 3)
    const auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 == 0) return r;
    const auto sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return r;
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (!std::all_of(method.begin(), method.end(), is_tchar)) return r;
    for (char c : target) {
        if (c <= ' ' || c == 0x7f) return r;
    }
    if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || version[7] < '0' ||
        version[7] > '9')
        return r;
    r.request.method = std::string(method);
    r.request.target = std::string(target);
    r.request.minor_version = version[7] - '0';
    r.request.keep_alive = r.request.minor_version >= 1;

    bool have_host = false, have_length = false;
    while (!head.empty()) {
        const auto e = head.find("\r\n");
        const std::string_view h = head.substr(0, e);
        head = e == std::string_view::npos ? std::string_view{} : head.substr(e + 2);
        const auto colon = h.find(':');
        if (colon == std::string_view::npos || colon == 0) return r;
        const std::string_view name = h.substr(0, colon);
        // RFC 9112 5.1: no whitespace between the field name and the colon.
        if (!std::all_of(name.begin(), name.end(), is_tchar)) return r;
        const std::string_view value = trim(h.substr(colon + 1));
        for (char c : value) {
            if (c == '\r' || c == '\n' || c == '\0') return r;
        }
        const std::string lname = lower(name);
        if (lname == "host") {
            if (have_host) return r;
            have_host = true;
        } else if (lname == "connection") {
            if (has_token(value, "close")) r.request.keep_alive = false;
            if (has_token(value, "keep-alive")) r.request.keep_alive = true;
        } else if (lname == "content-length") {
            if (have_length || value.empty() || value.size() > 18 ||
                !std::all_of(value.begin(), value.end(),
                             [](char c) { return c >= '0' && c <= '9'; }))
                return r;
            have_length = true;
            r.request.content_length = std::strtoull(std::string(value).c_str(), nullptr, 10);
        } else if (lname == "transfer-encoding") {
            return r;  // request bodies are not served; a chunked one cannot be skipped safely
        }
    }
    // RFC 9112 3.2: a server MUST respond 400 to an HTTP/1.1 request without Host.
    if (r.request.minor_version >= 1 && !have_host) return r;
    r.status = ParseStatus::kDone;
    return r;
}

DocRoot::DocRoot(const std::string& dir) {
    std::unique_ptr<char, decltype(&std::free)> real(realpath(dir.c_str(), nullptr), &std::free);
    struct stat st {};
    if (!real || stat(real.get(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw FatalError("--http: '" + dir + "' is not a directory");
    root_ = real.get();
}

std::optional<std::string> DocRoot::resolve(std::string_view target) const {
    if (target.empty() || target.front() != '/') return std::nullopt;
    target = target.substr(0, target.find_first_of("?#"));
    const auto decoded = percent_decode(target);
    if (!decoded) return std::nullopt;
    std::string rel;
    std::string_view rest = *decoded;
    while (!rest.empty()) {
        const auto slash = rest.find('/');
        const std::string_view seg = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        if (seg.empty() || seg == ".") continue;
        if (seg == ".." || seg.find('\\') != std::string_view::npos) return std::nullopt;
        rel += "/";
        rel += seg;
    }
    std::string candidate = root_ == "/" ? (rel.empty() ? "/" : rel) : root_ + rel;
    std::unique_ptr<char, decltype(&std::free)> real(realpath(candidate.c_str(), nullptr),
                                                     &std::free);
    if (!real) return std::nullopt;
    std::string path = real.get();
    const auto inside = [&](const std::string& p) {
        if (root_ == "/") return true;
        return p == root_ || (p.size() > root_.size() && p.compare(0, root_.size(), root_) == 0 &&
                              p[root_.size()] == '/');
    };
    if (!inside(path)) return std::nullopt;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return std::nullopt;
    if (S_ISDIR(st.st_mode)) {
        std::unique_ptr<char, decltype(&std::free)> index(
            realpath((path + "/index.html").c_str(), nullptr), &std::free);
        if (!index) return std::nullopt;
        path = index.get();
        if (!inside(path) || stat(path.c_str(), &st) != 0) return std::nullopt;
    }
    if (!S_ISREG(st.st_mode)) return std::nullopt;
    return path;
}

std::string_view reason_phrase(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 500:
            return "Internal Server Error";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Unknown";
    }
}

std::string response_head(int status, std::uint64_t content_length, std::string_view content_type,
                          bool keep_alive, std::string_view extra_headers) {
    char date[64];
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    std::string h = "HTTP/1.1 " + std::to_string(status) + " " +
                    std::string(reason_phrase(status)) + "\r\nServer: ustack\r\nDate: " + date +
                    "\r\nContent-Length: " + std::to_string(content_length) + "\r\n";
    if (!content_type.empty()) h += "Content-Type: " + std::string(content_type) + "\r\n";
    h += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    h += extra_headers;
    h += "\r\n";
    return h;
}

std::string_view content_type_for(std::string_view path) {
    const auto dot = path.rfind('.');
    const auto slash = path.rfind('/');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
        return "application/octet-stream";
    const std::string ext = lower(path.substr(dot + 1));
    if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
    if (ext == "txt") return "text/plain; charset=utf-8";
    if (ext == "css") return "text/css";
    if (ext == "js") return "text/javascript";
    if (ext == "json") return "application/json";
    if (ext == "png") return "image/png";
    if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
    if (ext == "svg") return "image/svg+xml";
    return "application/octet-stream";
}

}  // namespace ustack::apps::http
