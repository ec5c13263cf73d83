#include "apps/args.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace ustack::apps {

namespace {

const OptionSpec* find_long(std::span<const OptionSpec> options, std::string_view name) {
    for (const auto& o : options) {
        if (o.name == name) return &o;
    }
    return nullptr;
}

const OptionSpec* find_short(std::span<const OptionSpec> options, char c) {
    for (const auto& o : options) {
        if (o.short_name != 0 && o.short_name == c) return &o;
    }
    return nullptr;
}

std::string quoted(std::string_view s) {
    return "'" + std::string(s) + "'";
}

}  // namespace

std::uint64_t parse_number(std::string_view what, std::string_view text, std::uint64_t min,
                           std::uint64_t max) {
    std::uint64_t v = 0;
    const auto* end = text.data() + text.size();
    const auto [p, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc{} || p != end) {
        throw UsageError(std::string(what) + ": expected a number, got " + quoted(text));
    }
    if (v < min || v > max) {
        throw UsageError(std::string(what) + ": " + std::string(text) + " is out of range " +
                         std::to_string(min) + ".." + std::to_string(max));
    }
    return v;
}

wire::Ipv4Addr parse_ipv4(std::string_view what, std::string_view text) {
    auto a = wire::Ipv4Addr::parse(text);
    if (!a) {
        throw UsageError(std::string(what) + ": expected an IPv4 address A.B.C.D, got " +
                         quoted(text));
    }
    return *a;
}

bool ParsedArgs::has(std::string_view name) const {
    return flags_.count(name) > 0 || values_.count(name) > 0;
}

std::optional<std::string> ParsedArgs::value(std::string_view name) const {
    if (auto it = values_.find(name); it != values_.end()) return it->second;
    return std::nullopt;
}

std::optional<std::uint64_t> ParsedArgs::number(std::string_view name, std::uint64_t min,
                                                std::uint64_t max) const {
    auto v = value(name);
    if (!v) return std::nullopt;
    return parse_number("--" + std::string(name), *v, min, max);
}

std::optional<Duration> ParsedArgs::seconds(std::string_view name, Duration min,
                                            Duration max) const {
    auto v = value(name);
    if (!v) return std::nullopt;
    const std::string what = "--" + std::string(name);
    double secs = 0;
    const auto* end = v->data() + v->size();
    const auto [p, ec] = std::from_chars(v->data(), end, secs);
    if (v->empty() || ec != std::errc{} || p != end || !std::isfinite(secs) || secs < 0) {
        throw UsageError(what + ": expected seconds (e.g. 0.2), got " + quoted(*v));
    }
    const auto d = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(secs));
    if (d < min || d > max) {
        throw UsageError(what + ": " + *v + " s is out of range " +
                         std::to_string(std::chrono::duration<double>(min).count()) + ".." +
                         std::to_string(std::chrono::duration<double>(max).count()) + " s");
    }
    return d;
}

std::optional<wire::Ipv4Addr> ParsedArgs::ipv4(std::string_view name) const {
    auto v = value(name);
    if (!v) return std::nullopt;
    return parse_ipv4("--" + std::string(name), *v);
}

std::optional<wire::Ipv4Cidr> ParsedArgs::cidr(std::string_view name) const {
    auto v = value(name);
    if (!v) return std::nullopt;
    auto c = wire::Ipv4Cidr::parse(*v);
    if (!c || v->find('/') == std::string::npos) {
        throw UsageError("--" + std::string(name) + ": expected A.B.C.D/N, got " + quoted(*v));
    }
    return *c;
}

ParsedArgs parse_args(std::span<const OptionSpec> options, std::span<const std::string_view> args) {
    ParsedArgs out;
    bool only_positionals = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view a = args[i];
        if (only_positionals || a.size() < 2 || a[0] != '-' || (a[1] >= '0' && a[1] <= '9')) {
            out.positionals_.emplace_back(a);
            continue;
        }
        if (a == "--") {
            only_positionals = true;
            continue;
        }
        const OptionSpec* spec = nullptr;
        std::optional<std::string_view> inline_value;
        std::string shown;
        if (a.starts_with("--")) {
            std::string_view name = a.substr(2);
            if (auto eq = name.find('='); eq != std::string_view::npos) {
                inline_value = name.substr(eq + 1);
                name = name.substr(0, eq);
            }
            spec = find_long(options, name);
            shown = "--" + std::string(name);
        } else {
            spec = find_short(options, a[1]);
            shown = std::string(a.substr(0, 2));
            if (a.size() > 2) inline_value = a.substr(2);
        }
        if (spec == nullptr) throw UsageError("unknown option " + quoted(shown));
        const std::string key(spec->name);
        if (spec->value_name.empty()) {
            if (inline_value) throw UsageError(shown + " takes no value");
            out.flags_.insert(key);
            continue;
        }
        if (!inline_value) {
            if (i + 1 >= args.size()) {
                throw UsageError(shown + " needs a value (" + std::string(spec->value_name) + ")");
            }
            inline_value = args[++i];
        }
        out.values_[key] = std::string(*inline_value);
    }
    return out;
}

void print_options(std::ostream& os, std::span<const OptionSpec> options) {
    std::vector<std::string> heads;
    std::size_t width = 0;
    for (const auto& o : options) {
        std::string h = o.short_name != 0 ? std::string("-") + o.short_name + ", " : "    ";
        h += "--" + std::string(o.name);
        if (!o.value_name.empty()) h += " " + std::string(o.value_name);
        width = std::max(width, h.size());
        heads.push_back(std::move(h));
    }
    for (std::size_t i = 0; i < options.size(); ++i) {
        os << "  " << heads[i] << std::string(width - heads[i].size() + 3, ' ') << options[i].help
           << "\n";
    }
}

}  // namespace ustack::apps
