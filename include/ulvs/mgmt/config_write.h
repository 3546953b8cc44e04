// `ulvsadm save-yaml --write` (README "Running as a service"): the running configuration replaces
// ulvsd's -c file, as `ipvsadm-save > /etc/sysconfig/ipvsadm` does for IPVS, so runtime changes
// survive a restart.
//
// Atomic: the text goes to a temporary file in the same directory (same file system), is synced,
// and renamed over the file, so a crash or a full disk leaves the old file or the new one, never
// half of one. The new file keeps the old one's mode (and owner, when ulvsd may set it). A
// symlink is followed: its target is replaced. The previous file is kept as FILE.bak, because the
// YAML ulvsd writes has none of the comments the file had.
//
// Runs off the control lcore (a config job, config_jobs.h): it waits on the file system.
#pragma once

#include <expected>
#include <string>

namespace ulvs::mgmt {

// Writes `text` to `path` as above. Returns the backup's path ("" when there was no previous
// file to keep), or an error message naming the path and the reason.
std::expected<std::string, std::string> write_config_file(const std::string& path,
                                                          const std::string& text);

} // namespace ulvs::mgmt
