#include "z.h"
