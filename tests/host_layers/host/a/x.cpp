#include "a/y.h"
