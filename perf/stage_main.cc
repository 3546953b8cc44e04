// Google Benchmarks of the burst path's stages (issue 4): parse + classify, connection table,
// schedulers, checksum/NAT rewrite, IPIP. One EAL for all of them, sized for the 10M table.
#include "bench_run.h"

#include <benchmark/benchmark.h>

#include <cstdio>

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 2;
    if (!ulvs::test::init_eal("perf", ulvs::perf::eal_mem_mb(10u << 20))) {
        std::fprintf(stderr, "stage_bench: EAL init failed\n");
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
