// Trial-division primality, for table sizes checked at configuration time (Maglev wants a prime
// table size). Never on a per-packet path.
#pragma once

#include <cstdint>

namespace ulvs {

constexpr bool is_prime(uint64_t v) noexcept {
    if (v < 2)
        return false;
    for (uint64_t d = 2; d * d <= v; ++d)
        if (v % d == 0)
            return false;
    return true;
}

} // namespace ulvs
