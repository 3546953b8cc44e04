// Typed, located walking of a yaml-cpp tree. Every problem becomes a diagnostic at the offending
// key or value and the walk goes on, so one pass reports every mistake in a file.
// Private to lib/config.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/config/load.h"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ulvs::config::detail {

// yaml-cpp marks are 0-based and -1 when unknown; ours are 1-based and 0 when unknown.
source_loc loc_of(const YAML::Mark& m);
source_loc loc_of(const YAML::Node& n);

class reader {
public:
    explicit reader(std::string file) : m_file(std::move(file)) {}

    void error(source_loc at, std::string message);
    size_t error_count() const { return m_diags.size(); }
    std::vector<diagnostic> take() { return std::move(m_diags); }
    void warning(source_loc at, std::string message);
    std::vector<diagnostic> take_warnings() { return std::move(m_warnings); }

private:
    std::string m_file;
    std::vector<diagnostic> m_diags;
    std::vector<diagnostic> m_warnings;
};

// A value to read, where to report problems with it and the name to print ("ports[0].mtu").
struct field {
    YAML::Node value;
    source_loc at; // the value; its key instead when the value is an implicit null
    std::string path;
    source_loc key_at; // the key naming it in a mapping; `at` for list items
};

// Short description of what a node holds, for "must be X, got Y" messages.
std::string describe(const YAML::Node& n);

// The keys of one YAML mapping, checked against the keys this version knows. Unknown keys,
// duplicate keys and keys kept for later versions ("not supported yet") are reported once here.
class mapping {
public:
    mapping(reader& r, const field& f, std::initializer_list<std::string_view> known,
            std::initializer_list<std::string_view> later = {});

    bool valid() const { return m_valid; } // it was a mapping (an error was reported otherwise)
    const field& self() const { return m_self; }
    std::optional<field> get(std::string_view key) const;
    // As get(), reporting a missing key at the mapping itself.
    std::optional<field> require(std::string_view key) const;

private:
    struct entry {
        std::string key;
        field f;
    };
    reader& m_reader;
    field m_self;
    bool m_valid = false;
    std::vector<entry> m_entries; // known keys only, first occurrence
};

// Readers: nullopt after reporting an error at the field.
std::optional<std::string> read_string(reader& r, const field& f);
std::optional<uint64_t> read_uint(reader& r, const field& f, uint64_t min, uint64_t max);
std::optional<duration> read_duration(reader& r, const field& f);
std::optional<ip_addr> read_addr(reader& r, const field& f);
std::optional<ip_prefix> read_prefix(reader& r, const field& f);
std::optional<mac_addr> read_mac(reader& r, const field& f);
// "tcp" or "udp".
std::optional<l4_proto> read_protocol(reader& r, const field& f);
// YAML 1.2 core booleans only (true/false): "yes"/"on" are strings, as in the schema users expect.
std::optional<bool> read_bool(reader& r, const field& f);

// The items of a list as fields named "path[i]"; reports (and returns nothing) unless a list.
std::optional<std::vector<field>> read_list(reader& r, const field& f);
// A list of ports 1..65535, each once (match services, exception_path.allow); appends to `out`.
void read_ports(reader& r, const field& f, std::vector<uint16_t>& out);
// A list of networks without host bits set (203.0.113.0/24, not .5/24); appends to `out`.
void read_networks(reader& r, const field& f, std::vector<ip_prefix>& out);

} // namespace ulvs::config::detail
