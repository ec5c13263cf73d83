// The table of subcommands of the `ustack` command.
#pragma once

#include <span>
#include <string_view>

#include "apps/args.hpp"

namespace ustack::apps {

struct Command {
    std::string_view name;
    std::string_view usage;               // after "ustack NAME": "HOST [-c COUNT] ..."
    std::string_view summary;             // one line
    std::string_view details;             // paragraph for --help; may be empty
    std::span<const OptionSpec> options;  // its own options (device options are added)
    bool uses_device = true;
    int (*run)(const ParsedArgs& args);
};

std::span<const Command> commands();

int run_up(const ParsedArgs& args);
int run_ping(const ParsedArgs& args);
int run_udp_echo(const ParsedArgs& args);
int run_selftest(const ParsedArgs& args);
int run_serve(const ParsedArgs& args);
int run_nc(const ParsedArgs& args);

std::span<const OptionSpec> ping_option_specs();
std::span<const OptionSpec> udp_echo_option_specs();
std::span<const OptionSpec> selftest_option_specs();
std::span<const OptionSpec> serve_option_specs();
std::span<const OptionSpec> nc_option_specs();

}  // namespace ustack::apps
