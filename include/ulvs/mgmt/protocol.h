// The management socket's protocol (ulvsadm <-> ulvsd; README "Managing it").
//
// Framing: one JSON object per line (UTF-8, '\n'-terminated), both ways, at most max_line bytes.
// Requests carry a protocol version and a command:
//     {"v":1,"cmd":"add_service","service":{"proto":"tcp","vip":"203.0.113.100","port":80},...}
// Every request gets exactly one reply line, in order:
//     {"v":1,"ok":true, ...command's fields...}
//     {"v":1,"ok":false,"error":{"code":"not_found","message":"No such service","details":[..]}}
// A newer client talking to an older daemon gets `unsupported_version`; unknown fields are
// ignored so a newer daemon can add reply fields. Commands and their fields: docs in
// lib/mgmt/commands.cc (daemon side) and app/ulvsadm (client side).
//
// Everything here is pure (no sockets): the daemon's server and ulvsadm share it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace ulvs::mgmt {

using json = nlohmann::json;

constexpr int protocol_version = 1;
// A -R batch of a few thousand services fits; anything longer is refused without buffering it.
constexpr size_t max_line = 1 << 20;

// Typed errors: `code` is stable for scripts, `message` is for humans (ipvsadm's wording where
// ipvsadm has one).
enum class errc {
    bad_request,         // not JSON, not an object, missing or mistyped field
    unsupported_version, // "v" is not one this daemon speaks
    unknown_command,
    too_large,       // line longer than max_line
    not_found,       // no such service / destination
    exists,          // service / destination already exists
    invalid,         // the resulting configuration fails validation (details: every error)
    needs_restart,   // reload changes something only a restart can apply
    not_implemented, // a command this version does not do yet
    internal,
    permission_denied, // the peer is neither root nor in management.group
};

std::string_view to_string(errc c);

struct error {
    error() = default;
    error(errc c, std::string m, std::vector<std::string> d = {})
        : code(c), message(std::move(m)), details(std::move(d)) {}

    errc code = errc::internal;
    std::string message;
    std::vector<std::string> details;
};

json make_ok(json fields = json::object());
json make_error(const error& e);

// A request line -> its JSON object, checked for "v" and "cmd" (a string).
std::expected<json, error> parse_request(std::string_view line);

// A reply line (client side) -> the fields on success, the typed error otherwise. A reply that
// is not a well-formed reply object is an `internal` error.
std::expected<json, error> parse_reply(std::string_view line);

// Serialise for the wire: compact, '\n'-terminated.
std::string to_line(const json& j);

} // namespace ulvs::mgmt
