#include "a/x.h"
