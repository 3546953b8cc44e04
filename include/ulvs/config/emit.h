// Writing a configuration back as YAML (README "Managing it": `ulvsadm save-yaml`).
//
// The management plane applies every CLI change by editing a copy of the running config, emitting
// it with to_yaml and loading the text again with load_string: CLI changes and files then pass the
// one validator, and save-yaml prints exactly what the daemon runs. So to_yaml must round-trip:
// load_string(to_yaml(c)) == c for every valid c (tests/mgmt/emit_yaml_test.cc checks it).
// Keys left at their defaults are still written, so a saved file documents the values in force.
#pragma once

#include "ulvs/config/config.h"

#include <string>

namespace ulvs::config {

std::string to_yaml(const config& c);

// A duration as the file spells it: "900s", "1500ms".
std::string duration_text(duration d);

} // namespace ulvs::config
