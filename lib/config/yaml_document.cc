#include "yaml_document.h"

#include <yaml-cpp/eventhandler.h>

#include <sstream>

namespace ulvs::config::detail {

namespace {

// Sees only where each document starts. yaml-cpp 0.7 does not consume a token that cannot start
// a node (a ',' or ':' at the top, for one): such a "document" is an empty one starting where
// the previous one started, YAML::Load silently returns null for it and YAML::LoadAll loops
// forever. Walking the events first, with our own bound, turns that into a syntax error.
class document_starts : public YAML::EventHandler {
public:
    std::vector<YAML::Mark> starts;

    void OnDocumentStart(const YAML::Mark& m) override { starts.push_back(m); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

bool same_place(const YAML::Mark& a, const YAML::Mark& b) {
    return a.pos == b.pos && a.line == b.line && a.column == b.column;
}

} // namespace

std::optional<YAML::Node> parse_document_text(reader& r, std::string_view text) {
    std::string owned(text);
    try {
        std::istringstream in(owned);
        YAML::Parser parser(in);
        document_starts docs;
        // Two documents are enough to tell "one", "more than one" and "stuck".
        while (docs.starts.size() < 2 && parser.HandleNextDocument(docs)) {
        }
        if (docs.starts.size() == 2) {
            const YAML::Mark& second = docs.starts[1];
            if (same_place(docs.starts[0], second)) {
                std::string what = second.pos >= 0 && size_t(second.pos) < owned.size()
                                       ? "\"" + owned.substr(size_t(second.pos), 1) + "\""
                                       : std::string("token");
                r.error(loc_of(second), "YAML syntax error: unexpected " + what);
            } else {
                r.error(loc_of(second), "only one YAML document is expected in a file");
            }
            return std::nullopt;
        }
        return YAML::Load(owned);
    } catch (const YAML::ParserException& e) {
        // yaml-cpp reports an indentation slip or an unclosed bracket where it gave up, in its own
        // terms ("end of map not found"): say what usually causes it.
        const bool unclosed = e.msg.starts_with("end of ");
        r.error(loc_of(e.mark),
                "YAML syntax error: " + e.msg +
                    (unclosed ? " (a line above is indented differently from the keys beside it, "
                                "or a bracket or quote opened above is not closed)"
                              : ""));
    } catch (const YAML::Exception& e) {
        r.error(loc_of(e.mark), "cannot read YAML: " + e.msg);
    }
    return std::nullopt;
}

} // namespace ulvs::config::detail
