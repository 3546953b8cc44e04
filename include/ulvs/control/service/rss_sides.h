// Which side of the connections each port receives, for the RSS that steers packets to their
// owner worker (dataplane/port/rss.h). Start-up only (the ports' RSS is programmed once).
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/dataplane/port/rss.h"

#include <vector>

namespace ulvs::ctl {

// Per port of `cfg`, by the routes at start: a port the way to a NAT real server goes out of
// receives its replies (server side, hash the destination); a port that carries the default
// route, or no NAT real server, receives clients (client side, hash the source). A port that is
// both (one-arm NAT) is rss_side::none: its replies and requests hash different fields, so the
// redirect ring steers there. A later change of routes or real servers is not followed: what RSS
// then misplaces takes the ring (correct, counted `redirected`).
std::vector<dp::rss_side> rss_sides(const config::config& cfg);

} // namespace ulvs::ctl
