// The simulated fleet lands here (issue 7).
