// The libmosquitto wrapper lands here.
