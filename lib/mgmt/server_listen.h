// The management server's sockets (server.h): private to lib/mgmt.
#pragma once

#include <sys/types.h>

#include <expected>
#include <optional>
#include <string>

namespace ulvs::mgmt::detail {

// The unix socket, 0600 (root), or 0660 with `group`. A stale socket file is replaced.
std::expected<int, std::string> listen_unix(const std::string& path, std::optional<gid_t> group);
// "HOST:PORT": the metrics endpoint.
std::expected<int, std::string> listen_tcp(const std::string& addr);
// May this unix-socket peer use the socket (root, or a member of `group`)? Sets `uid`.
bool peer_allowed(int fd, std::optional<gid_t> group, uid_t& uid);

} // namespace ulvs::mgmt::detail
