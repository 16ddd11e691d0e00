// cuda_sim: nothing of the runtime API is simulated; the device-side names come from cuda_sim.h.
#pragma once
#include "../cuda_sim.h"
