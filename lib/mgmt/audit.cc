#include "ulvs/mgmt/audit.h"

#include <utility>

namespace ulvs::mgmt {

namespace {

std::string str(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end())
        return "?";
    return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string service(const json& op) {
    const json s = op.value("service", json::object());
    if (!s.is_object())
        return "-t ?";
    return (s.value("proto", json()) == "udp" ? "-u " : "-t ") + str(s, "vip") + ":" +
           str(s, "port");
}

std::string one(const json& op) {
    const std::string cmd = op.value("cmd", json()).is_string() ? op["cmd"].get<std::string>() : "";
    if (cmd == "add_service" || cmd == "edit_service") {
        std::string s = (cmd == "add_service" ? "-A " : "-E ") + service(op);
        if (op.contains("scheduler"))
            s += " -s " + str(op, "scheduler");
        if (auto f = op.find("flags"); f != op.end() && f->is_array() && !f->empty()) {
            std::string flags;
            for (const json& x : *f)
                flags += (flags.empty() ? "" : ",") + (x.is_string() ? x.get<std::string>() : "?");
            s += " -b " + flags;
        }
        if (op.contains("persistent"))
            s += " -p " + str(op, "persistent");
        if (op.contains("netmask"))
            s += " -M " + str(op, "netmask");
        return s;
    }
    if (cmd == "del_service")
        return "-D " + service(op);
    if (cmd == "clear")
        return "-C";
    if (cmd == "add_dest" || cmd == "edit_dest" || cmd == "del_dest") {
        const json d = op.value("dest", json::object());
        std::string s = std::string(cmd == "add_dest"    ? "-a "
                                    : cmd == "edit_dest" ? "-e "
                                                         : "-d ") +
                        service(op) + " -r " +
                        (d.is_object() ? str(d, "addr") + ":" + str(d, "port") : "?");
        if (cmd == "del_dest")
            return s;
        const std::string fwd =
            op.value("fwd", json()).is_string() ? op["fwd"].get<std::string>() : "";
        s += fwd == "nat" ? " -m" : fwd == "tun" ? " -i" : fwd == "dr" ? " -g" : "";
        if (op.contains("weight"))
            s += " -w " + str(op, "weight");
        if (op.contains("upper") && op["upper"] != 0)
            s += " -x " + str(op, "upper");
        if (op.contains("lower") && op["lower"] != 0)
            s += " -y " + str(op, "lower");
        return s;
    }
    if (cmd == "start_daemon" || cmd == "stop_daemon") {
        std::string s =
            (cmd == "start_daemon" ? "--start-daemon " : "--stop-daemon ") + str(op, "state");
        static const std::pair<const char*, const char*> opts[] = {
            {"mcast_ifn", "--mcast-interface"}, {"syncid", "--syncid"},
            {"maxlen", "--sync-maxlen"},        {"group", "--mcast-group"},
            {"port", "--mcast-port"},           {"ttl", "--mcast-ttl"}};
        for (const auto& [key, option] : opts)
            if (op.contains(key))
                s += std::string(" ") + option + " " + str(op, key);
        return s;
    }
    if (cmd == "set_timeouts")
        return "--set " + str(op, "tcp") + " " + str(op, "tcpfin") + " " + str(op, "udp");
    if (cmd == "zero")
        return op.contains("service") ? "-Z " + service(op) : "-Z";
    if (cmd == "reload")
        return "reload";
    if (cmd == "drain" || cmd == "undrain")
        return cmd + (op.contains("vip") ? " " + str(op, "vip") : std::string());
    if (cmd == "save_yaml" && op.value("write", false) == true) // rewrites the -c file
        return "save-yaml --write";
    return "";
}

} // namespace

std::vector<std::string> audit_text(const json& request) {
    std::vector<std::string> out;
    try {
        if (request.value("cmd", json()) == "batch") {
            const json ops = request.value("ops", json::array());
            if (!ops.is_array() || ops.empty())
                out.push_back("-R (no commands)");
            else
                for (const json& op : ops)
                    out.push_back("-R: " + (op.is_object() ? one(op) : std::string("?")));
            return out;
        }
        if (std::string s = one(request); !s.empty())
            out.push_back(std::move(s));
    } catch (const std::exception&) {
        out.push_back(request.value("cmd", json()).dump() + " (malformed)");
    }
    return out;
}

} // namespace ulvs::mgmt
