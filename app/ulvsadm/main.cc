// ulvsadm: ipvsadm's command line for ulvsd (README "Managing it"). Parses ipvsadm syntax into one
// management request (lib/mgmt/ipvsadm_args), sends it over the unix socket and prints the reply
// in ipvsadm's layouts (lib/mgmt/ipvsadm_format). Exit codes: 0 ok, 1 daemon unreachable or the
// daemon refused the request, 2 bad usage (as ipvsadm's fail(2, ...)). import-keepalived
// (import_cmd.cc) reads files only and has its own codes (its --help).
#include "client.h"
#include "import_cmd.h"
#include "socket_path.h"

#include "ulvs/mgmt/ipvsadm_args.h"
#include "ulvs/mgmt/ipvsadm_format.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace {

using ulvs::mgmt::json;

int print_error(const json& reply) {
    const json err = reply.value("error", json::object());
    std::fprintf(stderr, "%s\n", err.value("message", std::string("error")).c_str());
    // The first detail repeats the message for single-error replies: print the others.
    if (auto d = err.find("details"); d != err.end() && d->is_array()) {
        for (size_t i = 0; i < d->size(); ++i) {
            const std::string s = (*d)[i].is_string() ? (*d)[i].get<std::string>() : "";
            if (!(i == 0 && s == err.value("message", std::string())))
                std::fprintf(stderr, "  %s\n", s.c_str());
        }
    }
    return 1;
}

// -c: the listing comes in pages (lib/mgmt conn_listing.h); each is printed as it arrives, so
// any number of connections lists with bounded memory on both sides.
int list_conns(ulvs::adm::client& conn, json request, const std::string& socket_path) {
    bool header = false;
    for (;;) {
        auto reply = conn.call(request);
        if (!reply) {
            std::fprintf(stderr, "ulvsadm: cannot reach ulvsd at %s: %s\n", socket_path.c_str(),
                         reply.error().reason.c_str());
            return 1;
        }
        if (!reply->value("ok", false))
            return print_error(*reply);
        if (!header)
            std::fputs(ulvs::mgmt::render_conns_header().c_str(), stdout);
        header = true;
        std::fputs(ulvs::mgmt::render_conns_page(*reply).c_str(), stdout);
        if (!reply->value("more", false) || !reply->contains("cursor"))
            return std::fflush(stdout) == 0 ? 0 : 1;
        request["cursor"] = (*reply)["cursor"];
    }
}

} // namespace

int main(int argc, char** argv) {
    std::optional<std::string> given; // --socket
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--socket" && i + 1 < argc) {
            given = argv[++i];
        } else if (a.starts_with("--socket=")) {
            given = a.substr(9);
        } else {
            args.push_back(std::move(a));
        }
    }
    // Works on files only: no socket needed.
    if (!args.empty() && args[0] == "import-keepalived")
        return ulvs::adm::import_keepalived_cmd({args.begin() + 1, args.end()});
    auto action = ulvs::mgmt::parse_cli(args);
    if (!action) {
        std::fprintf(stderr, "%s\n", action.error().c_str());
        return 2;
    }
    using ulvs::mgmt::cli_kind;
    if (action->kind == cli_kind::help) {
        std::fputs(ulvs::mgmt::usage_text().c_str(), stdout);
        return 0;
    }
    if (action->kind == cli_kind::version) {
        std::printf("ulvsadm " ULVS_VERSION " (ipvsadm v1.31 syntax)\n");
        return 0;
    }
    if (action->kind == cli_kind::restore) {
        std::string text((std::istreambuf_iterator<char>(std::cin)),
                         std::istreambuf_iterator<char>());
        auto batch = ulvs::mgmt::parse_restore(text);
        if (!batch) {
            std::fprintf(stderr, "%s\n", batch.error().c_str());
            return 2;
        }
        action->request = *batch;
        action->kind = cli_kind::request;
    }

    const ulvs::adm::socket_choice chosen =
        given ? ulvs::adm::socket_choice{*given, ""} : ulvs::adm::default_socket();
    const std::string& socket_path = chosen.path;
    auto conn = ulvs::adm::client::connect(socket_path);
    if (!conn) {
        std::fprintf(stderr, "ulvsadm: cannot reach ulvsd at %s%s: %s\n", socket_path.c_str(),
                     chosen.origin.empty() ? "" : (" (" + chosen.origin + ")").c_str(),
                     conn.error().reason.c_str());
        return 1;
    }
    if (action->kind == cli_kind::conns)
        return list_conns(*conn, action->request, socket_path);
    auto reply = conn->call(action->request);
    if (!reply) {
        std::fprintf(stderr, "ulvsadm: cannot reach ulvsd at %s: %s\n", socket_path.c_str(),
                     reply.error().reason.c_str());
        return 1;
    }
    if (!reply->value("ok", false))
        return print_error(*reply);
    if (auto n = reply->find("note"); n != reply->end() && n->is_string()) // done, but unseen
        std::fprintf(stderr, "ulvsadm: note: %s\n", n->get<std::string>().c_str());

    switch (action->kind) {
    case cli_kind::list:
        std::fputs(ulvs::mgmt::render_list(*reply, action->fmt).c_str(), stdout);
        break;
    case cli_kind::timeouts:
        std::fputs(ulvs::mgmt::render_timeouts(*reply).c_str(), stdout);
        break;
    case cli_kind::daemon:
        std::fputs(ulvs::mgmt::render_daemons(*reply).c_str(), stdout);
        break;
    case cli_kind::text:
        if (reply->contains("yaml"))
            std::fputs((*reply)["yaml"].get<std::string>().c_str(), stdout);
        else
            std::fputs(reply->value("text", std::string()).c_str(), stdout);
        break;
    default:
        break;
    }
    return 0;
}
