// ustack SUBCOMMAND [ARGS] [OPTIONS]: the command-line front end of the stack.
// Exit status: 0 success, 1 failure (an OS error, no reply), 2 wrong usage.
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "apps/args.hpp"
#include "apps/commands.hpp"
#include "apps/node.hpp"

namespace ustack::apps {
namespace {

constexpr OptionSpec kHelpOption{"help", 'h', "", "show this help and exit"};

std::vector<OptionSpec> all_options(const Command& c) {
    std::vector<OptionSpec> out(c.options.begin(), c.options.end());
    if (c.uses_device) {
        const auto dev = device_option_specs();
        out.insert(out.end(), dev.begin(), dev.end());
    }
    out.push_back(kHelpOption);
    return out;
}

void print_general_help(std::ostream& os) {
    os << "usage: ustack SUBCOMMAND [ARGS] [OPTIONS]\n\n"
          "ustack runs a user-space TCP/IP stack on a TUN or TAP device (created if absent).\n\n"
          "subcommands:\n";
    for (const auto& c : commands()) {
        os << "  " << c.name << std::string(c.name.size() < 10 ? 10 - c.name.size() : 1, ' ')
           << c.summary << "\n";
    }
    os << "\ndevice options (every subcommand that runs on a device):\n";
    print_options(os, device_option_specs());
    os << "\n'ustack SUBCOMMAND --help' explains a subcommand and all its options.\n"
          "exit status: 0 success, 1 failure, 2 wrong usage.\n"
          "example: ustack up --tun ustack0 --addr 10.77.0.2/24 --host-addr 10.77.0.1/24\n";
}

void print_command_help(std::ostream& os, const Command& c) {
    os << "usage: ustack " << c.name << (c.usage.empty() ? "" : " ") << c.usage << " [OPTIONS]\n\n"
       << c.summary << "\n";
    if (!c.details.empty()) os << "\n" << c.details << "\n";
    os << "\noptions:\n";
    print_options(os, all_options(c));
}

int main_impl(int argc, char** argv) {
    std::vector<std::string_view> words(argv + 1, argv + argc);
    if (words.empty()) {
        std::cerr << "ustack: missing subcommand; see 'ustack --help'\n";
        return 2;
    }
    const std::string_view sub = words[0];
    if (sub == "--help" || sub == "-h" || sub == "help") {
        print_general_help(std::cout);
        return 0;
    }
    const Command* cmd = nullptr;
    for (const auto& c : commands()) {
        if (c.name == sub) cmd = &c;
    }
    if (cmd == nullptr) {
        std::cerr << "ustack: unknown subcommand '" << sub << "'; see 'ustack --help'\n";
        return 2;
    }
    try {
        const auto options = all_options(*cmd);
        const std::vector<std::string_view> rest(words.begin() + 1, words.end());
        const ParsedArgs args = parse_args(options, rest);
        if (args.has("help")) {
            print_command_help(std::cout, *cmd);
            return 0;
        }
        return cmd->run(args);
    } catch (const UsageError& e) {
        std::cerr << "ustack " << cmd->name << ": " << e.what() << "; see 'ustack " << cmd->name
                  << " --help'\n";
        return 2;
    }
}

}  // namespace
}  // namespace ustack::apps

int main(int argc, char** argv) {
    try {
        return ustack::apps::main_impl(argc, argv);
    } catch (const ustack::apps::FatalError& e) {
        std::cerr << "ustack: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "ustack: internal error: " << e.what() << "\n";
        return 1;
    } catch (...) {
        std::cerr << "ustack: internal error\n";
        return 1;
    }
}
