#include "yaml_reader.h"

#include <vector>

#include <cctype>

#include "ulvs/config/duration.h"

#include <algorithm>
#include <charconv>

namespace ulvs::config::detail {

source_loc loc_of(const YAML::Mark& m) {
    if (m.is_null() || m.line < 0)
        return {};
    return {m.line + 1, m.column + 1};
}

source_loc loc_of(const YAML::Node& n) {
    return loc_of(n.Mark());
}

void reader::error(source_loc at, std::string message) {
    m_diags.push_back({m_file, at.line, at.col, std::move(message)});
}

void reader::warning(source_loc at, std::string message) {
    m_warnings.push_back({m_file, at.line, at.col, std::move(message), true});
}

std::string describe(const YAML::Node& n) {
    switch (n.Type()) {
    case YAML::NodeType::Scalar:
        return "\"" + n.Scalar() + "\"";
    case YAML::NodeType::Sequence:
        return "a list";
    case YAML::NodeType::Map:
        return "a mapping";
    default:
        return "nothing";
    }
}

namespace {

// An implicit null (`key:` followed by nothing) carries the mark of the next token, often on the
// next line; its key is where the user should look.
source_loc value_loc(const YAML::Node& key, const YAML::Node& value) {
    return value.IsNull() ? loc_of(key) : loc_of(value);
}

std::string child_path(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

bool contains(std::initializer_list<std::string_view> keys, std::string_view k) {
    return std::find(keys.begin(), keys.end(), k) != keys.end();
}

// Optimal string alignment distance: edits, with a swap of two neighbours counting as one (the
// typo "wieght" is one edit from "weight").
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i)
        d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j)
        d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

// " (did you mean "KEY"?)" for the known key closest to a mistyped one, when it is close enough
// to be the likely intent (a quarter of the name's letters, at least one); "" otherwise.
std::string suggestion(const std::string& name, std::initializer_list<std::string_view> known) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const size_t limit = std::max<size_t>(1, name.size() / 4);
    std::string_view best;
    size_t best_d = limit + 1;
    for (std::string_view k : known) {
        const size_t d = lower == k ? 0 : edit_distance(lower, k);
        if (d < best_d) {
            best = k;
            best_d = d;
        }
    }
    return best.empty() ? "" : " (did you mean \"" + std::string(best) + "\"?)";
}

} // namespace

mapping::mapping(reader& r, const field& f, std::initializer_list<std::string_view> known,
                 std::initializer_list<std::string_view> later)
    : m_reader(r), m_self(f) {
    if (!f.value.IsMap()) {
        r.error(f.at, (f.path.empty() ? std::string("the document") : f.path) +
                          " must be a mapping, got " + describe(f.value));
        return;
    }
    m_valid = true;
    std::string where = f.path.empty() ? std::string("at top level") : "in " + f.path;
    // Iterating by value: yaml-cpp's operator-> returns a proxy, so `const Node& k = it->first`
    // would dangle.
    for (const auto& kv : f.value) {
        const YAML::Node& k = kv.first;
        if (!k.IsScalar()) {
            r.error(loc_of(k), "keys must be plain names, got " + describe(k) + " " + where);
            continue;
        }
        const std::string& name = k.Scalar();
        if (contains(later, name)) {
            r.error(loc_of(k), "key \"" + name + "\" " + where + " is not supported yet");
            continue;
        }
        if (!contains(known, name)) {
            r.error(loc_of(k), "unknown key \"" + name + "\" " + where + suggestion(name, known));
            continue;
        }
        auto same = [&](const entry& e) { return e.key == name; };
        if (std::any_of(m_entries.begin(), m_entries.end(), same)) {
            r.error(loc_of(k), "duplicate key \"" + name + "\" " + where);
            continue;
        }
        m_entries.push_back(
            {name, field{kv.second, value_loc(k, kv.second), child_path(f.path, name), loc_of(k)}});
    }
}

std::optional<field> mapping::get(std::string_view key) const {
    for (const entry& e : m_entries)
        if (e.key == key)
            return e.f;
    return std::nullopt;
}

std::optional<field> mapping::require(std::string_view key) const {
    auto f = get(key);
    if (!f && m_valid)
        m_reader.error(m_self.at,
                       (m_self.path.empty() ? std::string("the document") : m_self.path) +
                           " is missing required key \"" + std::string(key) + "\"");
    return f;
}

namespace {

// The text of a scalar, or an error "PATH must be WHAT, got ...".
std::optional<std::string> scalar(reader& r, const field& f, std::string_view what) {
    if (f.value.IsScalar())
        return f.value.Scalar();
    r.error(f.at, f.path + " must be " + std::string(what) + ", got " + describe(f.value));
    return std::nullopt;
}

} // namespace

std::optional<std::string> read_string(reader& r, const field& f) {
    return scalar(r, f, "a string");
}

std::optional<uint64_t> read_uint(reader& r, const field& f, uint64_t min, uint64_t max) {
    std::string range = std::to_string(min) + ".." + std::to_string(max);
    auto s = scalar(r, f, "an integer in " + range);
    if (!s)
        return std::nullopt;
    std::string_view text = *s;
    bool negative = !text.empty() && text.front() == '-';
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(text.data() + (negative ? 1 : 0), text.data() + text.size(), v);
    if (text.empty() || p != text.data() + text.size() ||
        (ec != std::errc{} && ec != std::errc::result_out_of_range)) {
        r.error(f.at, f.path + " must be an integer in " + range + ", got " + describe(f.value));
        return std::nullopt;
    }
    if (negative || ec == std::errc::result_out_of_range || v < min || v > max) {
        r.error(f.at, f.path + " must be in " + range + ", got " + *s);
        return std::nullopt;
    }
    return v;
}

namespace {

// The most seconds a key plausibly takes when written as a bare number (issue 16: `delay_loop:
// 3000` meant as milliseconds passed as 50 minutes). By the path's last part, and the one before
// it where the last is ambiguous; keys not listed get a day.
uint64_t plausible_seconds(std::string_view path) {
    const size_t dot = path.rfind('.');
    const std::string_view key = dot == std::string_view::npos ? path : path.substr(dot + 1);
    const std::string_view parent = dot == std::string_view::npos ? "" : path.substr(0, dot);
    struct bound {
        std::string_view key;
        uint64_t s;
    };
    static constexpr bound bounds[] = {
        {"delay_loop", 600},
        {"delay_before_retry", 600},
        {"connect_timeout", 120},
        {"warmup", 600},
        {"advert_int", 60},
        {"preempt_delay", 600},
        {"interval", 600},
        {"master_delay", 60},
        {"master_refresh", 3600},
        {"tcp_fin", 3600},
        {"udp", 3600},
        {"tcp", 86400},
    };
    if (key == "timeout") // persistence's is long by nature; a check's or script's is not
        return parent.ends_with("persistence") ? 86400 : 300;
    for (const bound& b : bounds)
        if (key == b.key)
            return b.s;
    return 86400;
}

} // namespace

std::optional<duration> read_duration(reader& r, const field& f) {
    auto s = scalar(r, f, "a duration");
    if (!s)
        return std::nullopt;
    auto d = parse_duration(*s);
    if (!d) {
        r.error(f.at, f.path + " " + d.error());
        return std::nullopt;
    }
    // Only a bare number can be a unit mistake: "3000s" says what it means.
    const bool bare = !s->empty() && std::isdigit(static_cast<unsigned char>(s->back()));
    if (const uint64_t most = plausible_seconds(f.path); bare && uint64_t(d->count()) > most * 1000)
        r.warning(f.at, f.path + ": " + *s + " is read as seconds (" + *s + "s); above " +
                            std::to_string(most) + "s that is unlikely for this key: write " + *s +
                            "ms if milliseconds were meant, or " + *s + "s to keep it");
    return *d;
}

std::optional<ip_addr> read_addr(reader& r, const field& f) {
    auto s = scalar(r, f, "an IPv4 address");
    if (!s)
        return std::nullopt;
    if (auto a = ip_addr::parse(*s))
        return a;
    r.error(f.at, f.path + " must be an IPv4 address a.b.c.d, got " + describe(f.value));
    return std::nullopt;
}

std::optional<ip_prefix> read_prefix(reader& r, const field& f) {
    auto s = scalar(r, f, "an IPv4 prefix");
    if (!s)
        return std::nullopt;
    if (auto p = ip_prefix::parse(*s))
        return p;
    r.error(f.at, f.path + " must be an IPv4 prefix a.b.c.d/len, got " + describe(f.value));
    return std::nullopt;
}

std::optional<mac_addr> read_mac(reader& r, const field& f) {
    auto s = scalar(r, f, "a MAC address");
    if (!s)
        return std::nullopt;
    if (auto m = mac_addr::parse(*s))
        return m;
    r.error(f.at, f.path + " must be a MAC address xx:xx:xx:xx:xx:xx, got " + describe(f.value));
    return std::nullopt;
}

std::optional<l4_proto> read_protocol(reader& r, const field& f) {
    auto s = read_string(r, f);
    if (!s)
        return std::nullopt;
    if (*s == "tcp")
        return l4_proto::tcp;
    if (*s == "udp")
        return l4_proto::udp;
    r.error(f.at, f.path + " must be tcp or udp, got " + describe(f.value));
    return std::nullopt;
}

std::optional<bool> read_bool(reader& r, const field& f) {
    auto s = scalar(r, f, "true or false");
    if (!s)
        return std::nullopt;
    if (*s == "true")
        return true;
    if (*s == "false")
        return false;
    r.error(f.at, f.path + " must be true or false, got " + describe(f.value));
    return std::nullopt;
}

std::optional<std::vector<field>> read_list(reader& r, const field& f) {
    if (!f.value.IsSequence()) {
        r.error(f.at, f.path + " must be a list, got " + describe(f.value));
        return std::nullopt;
    }
    std::vector<field> items;
    size_t i = 0;
    for (const YAML::Node& item : f.value) {
        source_loc at = item.IsNull() ? f.at : loc_of(item);
        items.push_back({item, at, f.path + "[" + std::to_string(i++) + "]", at});
    }
    return items;
}

void read_ports(reader& r, const field& f, std::vector<uint16_t>& out) {
    auto items = read_list(r, f);
    if (!items)
        return;
    for (const field& item : *items) {
        auto v = read_uint(r, item, 1, 65535);
        if (!v)
            continue;
        if (std::find(out.begin(), out.end(), uint16_t(*v)) != out.end())
            r.error(item.at, std::to_string(*v) + " is listed twice in " + f.path);
        else
            out.push_back(uint16_t(*v));
    }
}

void read_networks(reader& r, const field& f, std::vector<ip_prefix>& out) {
    auto items = read_list(r, f);
    if (!items)
        return;
    for (const field& item : *items) {
        auto v = read_prefix(r, item);
        if (!v)
            continue;
        const ip_prefix net{ip_addr::from_v4(v->addr.v4 & v->mask_v4()), v->len};
        if (net.addr.v4 != v->addr.v4)
            r.error(item.at, item.path + " has host bits set: " + v->to_string() +
                                 " (did you mean " + net.to_string() + "?)");
        else
            out.push_back(*v);
    }
}

} // namespace ulvs::config::detail
