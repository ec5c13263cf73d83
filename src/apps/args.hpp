// A small table-driven command-line parser: each subcommand lists its options (long name, short
// letter, value name, help); the parser accepts `--name VALUE`, `--name=VALUE`, `-c VALUE`,
// `-cVALUE` and flags, and turns anything else into a UsageError with a one-line message.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.hpp"
#include "wire/addr.hpp"

namespace ustack::apps {

// Wrong arguments: main prints the message and exits with status 2.
class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The OS or the network refused: main prints the message and exits with status 1.
class FatalError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct OptionSpec {
    std::string_view name;        // long name without dashes: "count"
    char short_name = 0;          // 'c', or 0
    std::string_view value_name;  // "COUNT"; empty for a flag
    std::string_view help;
};

class ParsedArgs {
  public:
    bool has(std::string_view name) const;  // flag given, or option given a value
    std::optional<std::string> value(std::string_view name) const;
    const std::vector<std::string>& positionals() const { return positionals_; }

    // Typed getters; a malformed value is a UsageError naming the option.
    std::optional<std::uint64_t> number(std::string_view name, std::uint64_t min,
                                        std::uint64_t max) const;
    std::optional<Duration> seconds(std::string_view name, Duration min, Duration max) const;
    std::optional<wire::Ipv4Addr> ipv4(std::string_view name) const;
    std::optional<wire::Ipv4Cidr> cidr(std::string_view name) const;

  private:
    friend ParsedArgs parse_args(std::span<const OptionSpec>, std::span<const std::string_view>);
    std::map<std::string, std::string, std::less<>> values_;
    std::set<std::string, std::less<>> flags_;
    std::vector<std::string> positionals_;
};

// Parses args (the words after the subcommand) against the option tables.
ParsedArgs parse_args(std::span<const OptionSpec> options, std::span<const std::string_view> args);

// Helpers for positional values.
std::uint64_t parse_number(std::string_view what, std::string_view text, std::uint64_t min,
                           std::uint64_t max);
wire::Ipv4Addr parse_ipv4(std::string_view what, std::string_view text);

// "  -c, --count COUNT    help" lines, aligned.
void print_options(std::ostream& os, std::span<const OptionSpec> options);

}  // namespace ustack::apps
