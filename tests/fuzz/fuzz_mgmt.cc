// libFuzzer target: what the management plane parses from users (lib/mgmt).
//
// The first byte picks the way in, the rest is the text:
//   0  a socket request line, as the daemon handles it: parse_request, then for a change
//      apply_op on a copy of the running config (tests/fuzz/burst.yaml's) and revalidate; the
//      same line as a reply, as ulvsadm reads it (parse_reply);
//   1  an ipvsadm command line (split_words, parse_cli); a request it makes goes through the
//      daemon's path as above;
//   2  an ipvsadm -R rule file (parse_restore); the batch it makes goes through apply_op.
// A bad request must get an error, never a crash or a hang. The daemon's server answers an
// exception from a handler with an `internal` error (server.cc dispatch), so one here is not a
// crash either; anything else is.
#include "ulvs/config/load.h"
#include "ulvs/mgmt/config_edit.h"
#include "ulvs/mgmt/ipvsadm_args.h"
#include "ulvs/mgmt/protocol.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

using namespace ulvs;

namespace {

const config::config* g_running = nullptr;

// The daemon's handling of a change (manager::change) without its publication.
void change(const mgmt::json& op) {
    config::config next = *g_running;
    try {
        if (!mgmt::apply_op(next, op))
            return;
        (void)mgmt::revalidate(next);
    } catch (const std::exception&) {
        // server.cc answers `internal error: ...`; the daemon goes on.
    }
}

void request_line(std::string_view line) {
    if (auto req = mgmt::parse_request(line)) {
        const auto& cmd = (*req)["cmd"];
        if (cmd.is_string() && mgmt::is_config_change(cmd.get<std::string>()))
            change(*req);
    }
    (void)mgmt::parse_reply(line);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    static auto cfg = config::load_file(ULVS_FUZZ_BURST_CONFIG);
    if (!cfg) {
        std::fprintf(stderr, "fuzz_mgmt: %s\n", cfg.error().front().to_string().c_str());
        std::abort();
    }
    g_running = &*cfg;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 3) {
    case 0:
        request_line(text);
        break;
    case 1: {
        const auto words = mgmt::split_words(text);
        if (auto a = mgmt::parse_cli(words); a && a->kind == mgmt::cli_kind::request) {
            const auto& cmd = a->request["cmd"];
            if (cmd.is_string() && mgmt::is_config_change(cmd.get<std::string>()))
                change(a->request);
        }
        break;
    }
    case 2:
        if (auto batch = mgmt::parse_restore(text))
            change(*batch);
        break;
    }
    return 0;
}
