// raise_open_file_limit.
// SPDX-License-Identifier: BSD-2-Clause
#include "util/process_limits.h"

#include <sys/resource.h>

namespace bakefs::tool {

void raise_open_file_limit() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);  // best effort: the limit as it was still works
  }
}

}  // namespace bakefs::tool
