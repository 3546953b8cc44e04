// The metrics endpoint's HTTP (server.h): GET /metrics, HTTP/1.0 or 1.1, one request per
// connection. Everything else gets a short error reply and the connection is closed; the head is
// read up to max_http_request bytes, never more.
#include "ulvs/mgmt/server.h"

namespace ulvs::mgmt {

namespace {

std::string http_response(int code, const char* reason, const std::string& type,
                          const std::string& body, const char* extra = "") {
    return "HTTP/1.0 " + std::to_string(code) + " " + reason + "\r\nContent-Type: " + type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra +
           "Connection: close\r\n\r\n" + body;
}

bool is_token(std::string_view s) {
    if (s.empty())
        return false;
    for (char ch : s)
        if (ch < 'A' || ch > 'Z')
            return false;
    return true;
}

} // namespace

void server::serve_http(client& c, uint64_t now) {
    size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos)
        end = c.in.find("\n\n");
    if (end == std::string::npos || end > m_limits.max_http_request) {
        if (c.in.size() > m_limits.max_http_request) {
            c.out = http_response(431, "Request Header Fields Too Large", "text/plain",
                                  "request head too large\n");
            c.close_after = true;
        } else if (c.eof) {
            c.close_after = true; // closed before a whole head: nothing to answer
        }
        return;
    }
    c.request_by = 0;
    const std::string_view head(c.in.data(), end);
    const std::string_view line = head.substr(0, head.find_first_of("\r\n"));
    // Request-Line = Method SP Request-URI SP HTTP-Version (RFC 9112 section 3).
    const size_t sp1 = line.find(' ');
    const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target =
        sp2 == std::string_view::npos ? "" : line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = sp2 == std::string_view::npos ? "" : line.substr(sp2 + 1);
    const std::string_view path = target.substr(0, target.find('?'));
    if (!is_token(method) || !target.starts_with('/') ||
        (version != "HTTP/1.0" && version != "HTTP/1.1"))
        c.out = http_response(400, "Bad Request", "text/plain", "bad request\n");
    else if (path != "/metrics")
        c.out = http_response(404, "Not Found", "text/plain", "not found: try /metrics\n");
    else if (method != "GET")
        c.out =
            http_response(405, "Method Not Allowed", "text/plain", "only GET\n", "Allow: GET\r\n");
    else
        c.out = http_response(200, "OK", "text/plain; version=0.0.4; charset=utf-8",
                              m_on_metrics ? m_on_metrics(now) : std::string{});
    c.in.clear();
    c.close_after = true;
}

} // namespace ulvs::mgmt
