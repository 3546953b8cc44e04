#include "ulvs/mgmt/protocol.h"

namespace ulvs::mgmt {

std::string_view to_string(errc c) {
    switch (c) {
    case errc::bad_request:
        return "bad_request";
    case errc::unsupported_version:
        return "unsupported_version";
    case errc::unknown_command:
        return "unknown_command";
    case errc::too_large:
        return "too_large";
    case errc::not_found:
        return "not_found";
    case errc::exists:
        return "exists";
    case errc::invalid:
        return "invalid";
    case errc::needs_restart:
        return "needs_restart";
    case errc::not_implemented:
        return "not_implemented";
    case errc::internal:
        return "internal";
    case errc::permission_denied:
        return "permission_denied";
    }
    return "internal";
}

namespace {

errc errc_from(std::string_view s) {
    for (errc c : {errc::bad_request, errc::unsupported_version, errc::unknown_command,
                   errc::too_large, errc::not_found, errc::exists, errc::invalid,
                   errc::needs_restart, errc::not_implemented, errc::permission_denied})
        if (to_string(c) == s)
            return c;
    return errc::internal;
}

} // namespace

json make_ok(json fields) {
    if (!fields.is_object())
        fields = json::object();
    fields["v"] = protocol_version;
    fields["ok"] = true;
    return fields;
}

json make_error(const error& e) {
    json err = {{"code", to_string(e.code)}, {"message", e.message}};
    if (!e.details.empty())
        err["details"] = e.details;
    return {{"v", protocol_version}, {"ok", false}, {"error", err}};
}

std::expected<json, error> parse_request(std::string_view line) {
    if (line.size() > max_line)
        return std::unexpected(
            error{errc::too_large, "request longer than " + std::to_string(max_line) + " bytes"});
    // No exceptions: a malformed line is an ordinary outcome here.
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded())
        return std::unexpected(error{errc::bad_request, "request is not valid JSON"});
    if (!j.is_object())
        return std::unexpected(error{errc::bad_request, "request must be a JSON object"});
    auto v = j.find("v");
    if (v == j.end() || !v->is_number_integer())
        return std::unexpected(error{errc::bad_request, "request needs an integer \"v\""});
    if (v->get<int64_t>() != protocol_version)
        return std::unexpected(
            error{errc::unsupported_version, "protocol version " + v->dump() +
                                                 " not supported (this "
                                                 "daemon speaks " +
                                                 std::to_string(protocol_version) + ")"});
    auto cmd = j.find("cmd");
    if (cmd == j.end() || !cmd->is_string())
        return std::unexpected(error{errc::bad_request, "request needs a string \"cmd\""});
    return j;
}

std::expected<json, error> parse_reply(std::string_view line) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("ok") || !j["ok"].is_boolean())
        return std::unexpected(error{errc::internal, "malformed reply from ulvsd"});
    if (j["ok"].get<bool>())
        return j;
    error e;
    const json& err = j.value("error", json::object());
    if (err.is_object()) {
        e.code = errc_from(err.value("code", ""));
        e.message = err.value("message", "");
        if (auto d = err.find("details"); d != err.end() && d->is_array())
            for (const json& s : *d)
                if (s.is_string())
                    e.details.push_back(s.get<std::string>());
    }
    if (e.message.empty())
        e.message = "error " + std::string(to_string(e.code));
    return std::unexpected(std::move(e));
}

std::string to_line(const json& j) {
    // Replace invalid UTF-8 rather than throw: messages may quote what a client sent.
    return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

} // namespace ulvs::mgmt
