// parallel.h — one thread-count setting for every kernel, and the rule
// "small work runs on one thread".
//
// Every parallel region in baeum is written as
//     #pragma omp parallel num_threads(baeum::threads_for(work)) ...
// so the thread count comes from a single place (baeum.set_num_threads /
// BAEUM_NUM_THREADS) and small work never pays a fork/join (~0.7 us here).
// Partitions never depend on the thread count, and no kernel splits a
// reduction across threads, so results are bit-identical for any count.
#pragma once
#include <cstdint>

#ifdef BAEUM_OPENMP
#include <omp.h>
#endif

namespace baeum {

// Threads kernels may use (>= 1). Default: CPUs this process may run on.
int get_num_threads();
void set_num_threads(int n);
bool openmp_enabled();
// CPUs in this process's affinity mask (sched_getaffinity), >= 1.
int available_cpus();

// Threads to use for a job of `work` units when one thread should get at least
// `grain` units: 1 for small jobs, never more than get_num_threads().
inline int threads_for(int64_t work, int64_t grain) {
#ifdef BAEUM_OPENMP
  // Already inside an active team (e.g. conv runs one GEMM per row block on each thread):
  // run serially. A nested region would get one thread, yet kernels split their work by the
  // count asked for, so asking for more than one there would skip work.
  if (omp_in_parallel()) return 1;
#endif
  int nt = get_num_threads();
  if (nt <= 1 || work < 2 * grain) return 1;
  int64_t by_work = work / grain;
  return by_work < nt ? static_cast<int>(by_work) : nt;
}

inline int thread_id() {
#ifdef BAEUM_OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

inline int team_size() {
#ifdef BAEUM_OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

}  // namespace baeum
