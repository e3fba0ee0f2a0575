// parallel.cpp — the thread-count setting (see parallel.h).
#include "baeum/parallel.h"

#include <atomic>
#include <cstdlib>

#if defined(__linux__)
#include <sched.h>
#endif
#include <thread>

namespace baeum {

int available_cpus() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

static int initial_threads() {
  if (const char* s = std::getenv("BAEUM_NUM_THREADS")) {
    char* end = nullptr;
    long v = std::strtol(s, &end, 10);
    if (end != s && *end == '\0' && v >= 1 && v <= 1024) return static_cast<int>(v);
    // An invalid value is reported by the Python layer at import; fall back here.
  }
  return available_cpus();
}

static std::atomic<int> g_threads{0};

int get_num_threads() {
#ifdef BAEUM_OPENMP
  int n = g_threads.load(std::memory_order_relaxed);
  if (n == 0) {
    n = initial_threads();
    g_threads.store(n, std::memory_order_relaxed);
  }
  return n;
#else
  return 1;
#endif
}

void set_num_threads(int n) { g_threads.store(n < 1 ? 1 : n, std::memory_order_relaxed); }

bool openmp_enabled() {
#ifdef BAEUM_OPENMP
  return true;
#else
  return false;
#endif
}

}  // namespace baeum
