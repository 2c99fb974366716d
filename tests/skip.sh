#!/bin/sh
# A test that cannot run here: say why and exit 77, which CTest counts as skipped
# (SKIP_RETURN_CODE 77). Usage: skip.sh REASON...
echo "skipped: $*"
exit 77
